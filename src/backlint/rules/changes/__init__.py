"""BL0: rules about a change (``--new-from-rev``): generated code, the API contract."""

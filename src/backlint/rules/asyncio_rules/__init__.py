"""BL5: async code (rulebook AP-PY10)."""

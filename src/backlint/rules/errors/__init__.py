"""BL2: error handling (rulebook AP-PY03)."""

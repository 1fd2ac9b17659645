"""BL6: API surface (rulebook AP-PY08: annotated public API)."""

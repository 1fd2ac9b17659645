"""BL3: shared mutable state (rulebook AP-PY05)."""

"""BL4: architecture and imports (rulebook AP-PY09, layer boundaries)."""

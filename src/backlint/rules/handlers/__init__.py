"""BL1: route handlers that hold business logic or reach into persistence (AP-PY01)."""

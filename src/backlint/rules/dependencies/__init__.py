"""BL3 state and dependencies: infrastructure a service reaches for instead of receiving."""

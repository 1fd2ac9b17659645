"""BL7 tests: tests that depend on the clock, chance or waiting, and the names of tests."""

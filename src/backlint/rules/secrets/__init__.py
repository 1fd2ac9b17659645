"""BL8: secrets written into code and test data."""

"""Rules about retrying tests until they pass."""

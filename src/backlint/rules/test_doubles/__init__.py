"""Rules about how tests use test doubles: too many mocks, only interaction checks."""

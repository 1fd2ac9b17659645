"""The engine: the per-file pass (parse, walk, rules), the parallel runner, the project pass."""

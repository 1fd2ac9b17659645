"""The project index: facts per file, import table, roles, modules, import graph."""

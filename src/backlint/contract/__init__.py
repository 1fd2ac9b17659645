"""The HTTP API contract of a project, read statically, and the breaking changes between
two of them (``model.py``, ``extract.py``, ``diff.py``; rule BL012)."""

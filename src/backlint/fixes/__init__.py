"""Applying automatic fixes: edits to text (``apply.py``) and the fix-and-re-check loop
behind ``--fix``, ``--diff`` and ``--fix-only`` (``run.py``)."""

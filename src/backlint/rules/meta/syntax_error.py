from __future__ import annotations

from backlint.diagnostics import Severity
from backlint.rules.base import Example, ParseFailureRule


class SyntaxErrorRule(ParseFailureRule):
    """
    ## What it does
    Reports a file that backlint could not read or parse: a syntax error, bytes that are
    not valid in the file's encoding (UTF-8 unless a BOM or coding cookie says
    otherwise), a NUL byte, nesting too deep to analyze, or a read error.

    ## Why is this bad?
    No other rule can look at such a file, and its imports are missing from the import
    graph, so cross-file findings may be incomplete. Python itself would refuse to import
    the file.

    ## Example
    ```python
    def broken(:
        pass
    ```

    Like ruff's syntax errors, this is reported whatever `select` says; only `ignore`
    (or `--ignore BL001`) turns it off.

    ## How to fix
    Fix the syntax error (the message carries Python's own explanation), or exclude the
    file if it is not meant to be Python (a template, a fixture).
    """

    code = "BL001"
    name = "syntax-error"
    summary = "The file could not be read or parsed, so no other rule checked it."
    fix_text = "Fix the syntax error, or exclude the file if it is not Python."
    severity = Severity.ERROR
    always_enabled = True
    tags = ("correctness", "PQG-1")
    invalid = (Example("def broken(:\n    pass\n", path="app/broken.py"),)
    valid = (Example("def fine() -> None:\n    pass\n", path="app/fine.py"),)

    def describe_failure(self, reason: str) -> str:
        return f"Cannot analyze this file: {reason}"

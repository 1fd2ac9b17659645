from __future__ import annotations

from backlint.diagnostics import Diagnostic, Severity, Span
from backlint.rules.base import Example, SuppressionAuditRule


class UnusedSuppression(SuppressionAuditRule):
    """
    ## What it does
    Reports a BL code in a `# noqa: ...` (or `# backlint: noqa: ...`) comment that silenced
    nothing in this run, and BL codes that name no rule.

    A bare `# noqa` and the codes of other tools (`E501`, `F401`, ...) are never reported:
    they may serve ruff or flake8. Codes of rules that this run did not enable are left
    alone too, since another configuration may need them.

    ## Why is this bad?
    A stale suppression hides the next real finding on that line, and tells readers a
    problem exists where there is none.

    ## Example
    ```python
    def total(items: list[int]) -> int:  # noqa: BL602
        return sum(items)
    ```

    ## How to fix
    Remove the unused code, or the whole comment when no code is left.

    Note: `noqa: BL411` on an import counts as used when that import is part of an import
    cycle. Checking only some files of a project (as pre-commit does) can make such a
    suppression look unused, because the rest of the cycle was not part of the run.
    """

    code = "BL002"
    name = "unused-suppression"
    summary = "A noqa comment names a backlint code that suppressed nothing."
    fix_text = "Remove the unused code from the noqa comment (or the whole comment)."
    severity = Severity.WARNING
    tags = ("maintainability",)
    invalid = (
        Example(
            "def total(items: list[int]) -> int:  # noqa: BL602\n    return sum(items)\n",
            path="app/services/totals.py",
        ),
    )
    valid = (
        Example(
            "def total(items: list[int]) -> int:  # noqa: E501\n    return sum(items)\n",
            path="app/services/totals.py",
        ),
        Example(
            "def total(items):  # noqa: BL601, BL602\n    return sum(items)  # noqa\n",
            path="app/services/totals.py",
        ),
    )

    def check_unused(self, path: str, code: str, known: bool, span: Span) -> Diagnostic | None:
        reason = "suppressed nothing" if known else "is not a backlint rule"
        return self.diagnostic(path, span, f"Unused suppression: `{code}` {reason}")

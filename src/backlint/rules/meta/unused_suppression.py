from __future__ import annotations

from collections.abc import Sequence

from backlint.diagnostics import Applicability, Diagnostic, Edit, Fix, Position, Severity, Span
from backlint.directives import CodeMention, Directive
from backlint.rules.base import Example, SuppressionAuditRule

# Only codes of rules that run can be judged unused, and the rules these examples name
# are in preview: the example projects run preview rules.
_PREVIEW = (("pyproject.toml", "[tool.backlint]\npreview = true\n"),)


class UnusedSuppression(SuppressionAuditRule):
    """
    ## What it does
    Reports a BL code in a `# noqa: ...` (or `# backlint: noqa: ...`) comment that silenced
    nothing in this run, and BL codes that name no rule.

    A bare `# noqa` and the codes of other tools (`E501`, `F401`, ...) are never reported:
    they may serve ruff or flake8. backlint's codes are `BL` and exactly three digits, so
    `BLE001` (flake8-blind-except, also in ruff) is another tool's code. Codes of rules
    that this run did not enable are left alone too, since another configuration may
    need them.

    ## Why is this bad?
    A stale suppression hides the next real finding on that line, and tells readers a
    problem exists where there is none.

    ## Example
    ```python
    def total(items: list[int]) -> int:  # noqa: BL602
        return sum(items)
    ```

    ## How to fix
    Remove the unused code, or the whole comment when no code is left. The automatic fix
    does this; a comment after the `noqa` (`# noqa: BL602  # type: ignore`) is kept. It
    is safe, except for codes of project rules (BL411, BL412, BL421, BL611): whether
    those are used depends on which files the run checked, so removing them is unsafe.

    Note: `noqa: BL411` on an import counts as used when that import is part of an import
    cycle. Checking only some files of a project (as pre-commit does) can make such a
    suppression look unused, because the rest of the cycle was not part of the run.
    """

    code = "BL002"
    name = "unused-suppression"
    summary = "A noqa comment names a backlint code that suppressed nothing."
    fix_text = "Remove the unused code from the noqa comment (or the whole comment)."
    severity = Severity.WARNING
    autofix = "safe (unsafe for project rules' codes)"
    tags = ("maintainability", "PQG-1")
    invalid = (
        Example(
            "def total(items: list[int]) -> int:  # noqa: BL602\n    return sum(items)\n",
            path="app/services/totals.py",
            fixed="def total(items: list[int]) -> int:\n    return sum(items)\n",
            files=_PREVIEW,
        ),
        Example(
            "def total(items) -> int:  # noqa: BL601, E501, BL602, BL999\n    return sum(items)\n",
            path="app/services/totals.py",
            expect=2,
            fixed="def total(items) -> int:  # noqa: BL601, E501\n    return sum(items)\n",
            files=_PREVIEW,
        ),
        Example(
            "def total(items: list[int]) -> int:  # noqa: BL602  # type: ignore\n"
            "    return sum(items)\n",
            path="app/services/totals.py",
            fixed="def total(items: list[int]) -> int:  # type: ignore\n    return sum(items)\n",
            files=_PREVIEW,
        ),
        Example(
            "# backlint: noqa: BL202\nimport os\n",
            path="app/services/totals.py",
            fixed="import os\n",
            files=_PREVIEW,
        ),
        Example(
            "try:\n    run()\nexcept Exception:  # noqa: BLE001, BL202\n    raise\n",
            path="app/services/totals.py",
            fixed="try:\n    run()\nexcept Exception:  # noqa: BLE001\n    raise\n",
            expect=1,
            files=_PREVIEW,
        ),
        # An import-cycle code may be used in a run over the whole project: unsafe.
        Example(
            "import os  # noqa: BL411\n",
            path="app/services/totals.py",
            fixed="import os\n",
            files=_PREVIEW,
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
            files=_PREVIEW,
        ),
        # flake8-blind-except's code, however much it looks like one of backlint's.
        Example(
            "try:\n    run()\nexcept Exception:  # noqa: BLE001\n    raise\n"
            "# backlint: noqa: BLE001\n",
            path="app/services/totals.py",
        ),
    )

    def check_unused(self, path: str, code: str, known: bool, span: Span) -> Diagnostic | None:
        reason = "suppressed nothing" if known else "is not a backlint rule"
        return self.diagnostic(path, span, f"Unused suppression: `{code}` {reason}")

    def removal_fix(
        self, directive: Directive, unused: Sequence[CodeMention], *, run_dependent: bool
    ) -> Fix | None:
        applicability = Applicability.UNSAFE if run_dependent else Applicability.SAFE
        kept = [mention for mention in directive.codes if mention not in unused]
        codes = ", ".join(f"`{mention.code}`" for mention in unused)
        if kept:
            # Rewrite the list of codes, keeping the comment's own spelling around it.
            span = Span(directive.codes[0].span.start, directive.codes[-1].span.end)
            edit = Edit(span, ", ".join(mention.code for mention in kept))
            return Fix(f"Remove unused {codes}", (edit,), applicability)
        return Fix("Remove the unused suppression", (_comment_removal(directive),), applicability)


def _comment_removal(directive: Directive) -> Edit:
    line = directive.line
    if directive.file_level or directive.code_end == 1:
        # A comment on a line of its own: the line goes.
        return Edit(Span(Position(line, 1), Position(line + 1, 1)), "")
    if directive.waiver or not directive.rest.strip():
        # A waiver's reason belongs to it: it goes with the codes.
        return Edit(
            Span(Position(line, directive.code_end), Position(line, directive.line_end)), ""
        )
    if directive.rest.lstrip().startswith("#"):
        # Another comment follows (``# type: ignore``): it stays, with its own spacing.
        return Edit(Span(Position(line, directive.code_end), directive.span.end), "")
    # Prose follows the codes: keep it as a comment.
    return Edit(directive.span, "#")

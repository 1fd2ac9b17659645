"""What the migration rules share: the irreversibility waiver, empty function bodies,
module-level assignments and call arguments."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

import libcst as cst

from backlint.rules.syntax import is_docstring

# A regex over comment tokens only (never over code): ``# backlint: irreversible <reason>``.
_WAIVER = re.compile(r"#\s*backlint:\s*irreversible\b[\s:\-\u2013\u2014]*(?P<reason>.*)$")


@dataclass(frozen=True)
class Waiver:
    """A ``# backlint: irreversible`` comment; it only counts when it gives a reason."""

    line: int
    reason: str

    @property
    def valid(self) -> bool:
        return any(character.isalnum() for character in self.reason)


def find_waiver(text: str) -> Waiver | None:
    """The file's irreversibility waiver, preferring one that states its reason."""
    if "irreversible" not in text or "backlint:" not in text:
        return None
    found: list[Waiver] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.COMMENT:
                continue
            match = _WAIVER.match(token.string)
            if match is not None:
                found.append(Waiver(token.start[0], match.group("reason").strip()))
    except (tokenize.TokenError, SyntaxError):
        # The engine parsed the file already; a tokenizer hiccup just means no waiver.
        return None
    if not found:
        return None
    return next((waiver for waiver in found if waiver.valid), found[0])


def waiver_note(waiver: Waiver | None) -> str:
    """A suffix for messages when a waiver exists but does not say why."""
    if waiver is None or waiver.valid:
        return ""
    return (
        f" (the `# backlint: irreversible` comment on line {waiver.line} "
        "does not count without a reason)"
    )


def body_statements(function: cst.FunctionDef) -> list[cst.BaseStatement]:
    """The statements of a function's body (a one-line ``def f(): pass`` included)."""
    body = function.body
    if isinstance(body, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=body.body)]
    return list(body.body) if isinstance(body, cst.IndentedBlock) else []


def is_noop(function: cst.FunctionDef) -> bool:
    """Whether the body is only ``pass``, ``...`` and strings (a docstring, a note).

    Comments are not statements in libcst, so Alembic's
    ``# ### commands auto generated ...`` markers around ``pass`` do not count.
    """
    for statement in body_statements(function):
        if is_docstring(statement):
            continue
        if not isinstance(statement, cst.SimpleStatementLine):
            return False
        for small in statement.body:
            if isinstance(small, cst.Pass):
                continue
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Ellipsis):
                continue
            return False
    return True


# Comments a tool writes, or that promise work: they explain nothing.
_NOT_AN_EXPLANATION = re.compile(
    r"^#+\s*(?:#+\s*)?(?:commands auto generated|end alembic commands|todo|fixme|xxx)\b",
    re.IGNORECASE,
)


def _comments(function: cst.FunctionDef) -> list[str]:
    """The comments written inside a function's body (libcst keeps them as trivia)."""
    body = function.body
    found: list[str] = []
    if isinstance(body, cst.IndentedBlock):
        if body.header.comment is not None:
            found.append(body.header.comment.value)
        found.extend(line.comment.value for line in body.footer if line.comment is not None)
    for statement in body_statements(function):
        if not isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            continue
        found.extend(
            line.comment.value for line in statement.leading_lines if line.comment is not None
        )
        if (
            isinstance(statement, cst.SimpleStatementLine)
            and statement.trailing_whitespace.comment is not None
        ):
            found.append(statement.trailing_whitespace.comment.value)
    return found


def explains_itself(function: cst.FunctionDef) -> bool:
    """Whether a comment in the body says why it is what it is (``# No downgrade: the
    backfilled rows keep the new tokenization``); Alembic's autogenerate markers and
    ``TODO`` notes do not count."""
    return any(
        _NOT_AN_EXPLANATION.match(comment) is None and len(comment.strip("# ").split()) >= 2
        for comment in _comments(function)
    )


def raises_unconditionally(function: cst.FunctionDef) -> bool:
    """Whether a ``raise`` sits directly in the body (not under an ``if`` or a ``try``)."""
    return any(
        isinstance(small, cst.Raise)
        for statement in body_statements(function)
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
    )


def string_value(node: cst.BaseExpression) -> str | None:
    """The text of a string literal (an f-string keeps only its literal parts)."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.FormattedString):
        return "".join(
            part.value if isinstance(part, cst.FormattedStringText) else " x "
            for part in node.parts
        )
    return None


def argument(call: cst.Call, position: int, keyword: str) -> cst.Arg | None:
    """The argument at ``position`` or named ``keyword``, if the call spells it out."""
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    if position < len(positional):
        return positional[position]
    return keyword_argument(call, keyword)


def keyword_argument(call: cst.Call, keyword: str) -> cst.Arg | None:
    return next(
        (arg for arg in call.args if arg.keyword is not None and arg.keyword.value == keyword),
        None,
    )


def has_splat(call: cst.Call) -> bool:
    """``f(*args)`` or ``f(**kwargs)``: the call's arguments are not all in the file."""
    return any(arg.star for arg in call.args)


def module_assignments(statement: cst.BaseStatement) -> dict[str, cst.BaseExpression | None]:
    """Names a top-level simple statement assigns, with their value (``revision = "..."``)."""
    found: dict[str, cst.BaseExpression | None] = {}
    if not isinstance(statement, cst.SimpleStatementLine):
        return found
    for small in statement.body:
        if isinstance(small, cst.Assign):
            for target in small.targets:
                if isinstance(target.target, cst.Name):
                    found[target.target.value] = small.value
        elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            found[small.target.value] = small.value
    return found

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from functools import cached_property

import libcst as cst

from backlint.diagnostics import Position, Severity, Span
from backlint.engine.context import FileContext, TextContext
from backlint.engine.redaction import shown
from backlint.index.textfiles import TEST_FIXTURE
from backlint.rules.base import Example, FileRule, Option, TextFinding, TextRule
from backlint.rules.secrets.context import DocumentationScope, key_text, target_name
from backlint.rules.secrets.detection import (
    DEFAULT_FAKE_MARKERS,
    TokenMatch,
    find_tokens,
    might_hold_token,
)
from backlint.rules.secrets.literals import StringNode, scanned_text, string_parts
from backlint.source import split_lines


class SecretLiteral(FileRule, TextRule):
    """
    ## What it does
    Flags a credential in a recognisable token format, wherever it is written: in any
    Python string literal (tests included) and in the text fixtures of test directories
    (JSON, YAML, TOML, INI/CFG and `.env*` files, such as recorded HTTP cassettes). The
    formats, each named in the message:

    - AWS access key IDs (`AKIA…`, temporary `ASIA…`) and a 40-character secret access
      key written after an `aws_secret_access_key` key;
    - GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`) and GitLab
      personal access tokens (`glpat-`);
    - Slack tokens (`xoxb-`, `xoxp-`, …) and Slack incoming-webhook URLs;
    - private key blocks (`-----BEGIN … PRIVATE KEY-----` followed by a key body);
    - signed JSON Web Tokens (`eyJ….eyJ….signature`, header naming an `alg`);
    - Stripe live secret and restricted keys (`sk_live_`, `rk_live_`) and webhook
      signing secrets (`whsec_`);
    - Google API keys (`AIza…`), SendGrid (`SG.….…`), OpenAI (`sk-proj-…`, classic
      `sk-…T3BlbkFJ…`), Anthropic (`sk-ant-api03-…`), PyPI (`pypi-AgEIcHlwaS5vcmc…`) and
      npm (`npm_…`) tokens.

    OpenAPI examples are left alone: values under an `example`, `examples`,
    `openapi_examples`, `json_schema_extra` or `schema_extra` keyword, key or attribute
    are published with the API's documentation on purpose.

    A value containing one of the `fake-markers` (`example`, `dummy`, `fake`, `test`,
    `sample`, `placeholder`, `xxxx`, AWS's documented `AKIAIOSFODNN7EXAMPLE`) is skipped,
    and so is filler (fewer than 8 distinct characters, or a typed run such as
    `1234567890` or `ABCDEFGH`), a JWT whose decoded payload carries a fake marker
    (`"email": "user@example.com"`) and jwt.io's sample token. The message shows the
    token's kind and at most its first four characters (never more than a quarter of
    it); every output that shows the source line (`full`, `--diff`) replaces the rest
    with a mask of fixed length, which does not tell the token's length either.

    ## Why is this bad?
    These formats are issued by a provider and work as they are: whoever reads the
    repository can use them. Test data is no exception: a recorded cassette keeps the
    `Authorization` header of the real session it recorded, and a key pasted into a test
    to make it pass is usually a real one.

    ## Example
    ```python
    GITHUB_TOKEN = "ghp_R2d2…"
    ```

    Use instead:
    ```python
    GITHUB_TOKEN = os.environ["GITHUB_TOKEN"]
    ```

    In a cassette, filter the header when recording
    (`vcr_config = {"filter_headers": ["authorization"]}`) and re-record.

    ## How to fix
    Revoke the credential at its provider first (it is in the history already), then
    load it from the environment or a secret manager. In tests use values that are
    obviously fake (`"ghp_" + "x" * 36`, a marker such as `fake` or `test` in the value)
    and scrub recorded cassettes.

    Defaults and calibration: only formats whose prefix or structure identifies the
    issuer are checked, so no entropy guess is involved; generic
    `Authorization: Bearer <opaque>` headers and database URLs are left to review.
    Secret-named values in source code are BL801's; a literal that is both gets both
    findings. In test code and fixtures this is the only secret rule. A private key
    block in test code or a test fixture is not reported unless
    `include-test-private-keys` is set: test suites keep keys to sign their own tokens
    (saleor's two RSA keys) or as certificate test vectors, which reviewers did not
    count as leaks, and a private key never travels in an HTTP exchange a cassette
    records. A key outside tests is always reported. On the eight calibration
    projects every other candidate in a known format was a fake (AWS's documented
    key, `xoxb-12345`) and is skipped.
    """

    code = "BL802"
    name = "secret-literal"
    summary = "A credential in a known token format is written into code or test data."
    fix_text = "Load from the environment or a secret manager; in tests use obviously fake values."
    severity = Severity.ERROR
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("security", "PQG-6")
    include_tests = True
    text_kinds = frozenset({TEST_FIXTURE})
    options = (
        Option(
            "fake-markers",
            DEFAULT_FAKE_MARKERS,
            "Substrings (case-insensitive) that mark a token as fake; such values are skipped.",
        ),
        Option(
            "include-test-private-keys",
            False,
            "Also report private key blocks in test code and test fixtures (signing keys of "
            "test token issuers, certificate test vectors).",
        ),
    )
    # Each token below is split with ``+`` (which the rule does not join, unlike implicit
    # concatenation) so that secret scanners, this rule included, pass over backlint's
    # own source; the examples run on the joined text.
    invalid = (
        Example('GITHUB_TOKEN = "ghp_' + 'R2d2C3poB8Bb8Kx5Ww9Qq1Zz4Yy7Tt0Uu3Vv"\n', expect=1),
        Example('AWS_KEY = "AKIA' + '2E0A8F3B244C9986"\n', expect=1),
        Example(
            'def test_upload(s3):\n    s3.login(key="AKIA' + '2E0A8F3B244C9986")\n',
            path="tests/test_upload.py",
            expect=1,
        ),
        Example(
            'hook = "https://hooks.slack.com/services/'
            + 'T0A1B2C3D/B4E5F6G7H/Q8r9S0t1U2v3W4x5Y6z7"\n',
            expect=1,
        ),
        Example(
            'KEY = (\n    "-----BEGIN RSA ' + 'PRIVATE KEY-----\\n"\n'
            '    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw"\n'
            '    "7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFc"\n'
            '    "-----END RSA PRIVATE KEY-----\\n"\n)\n',
            expect=1,
        ),
        Example(
            'AUTH = "Bearer eyJhbGciOiJIUzI1NiJ9.'
            + 'eyJ1c2VyIjoiYWxpY2UiLCJyb2xlIjoiYWRtaW4ifQ.k3Hq9vZx2Lr7Tn0Wb5Ys8Pd1Fg4Jc6Mu"\n',
            expect=1,
        ),
        Example('stripe.api_key = "sk_live_' + '4eC39HqLyjWDarjtT1zdp7dc"\n', expect=1),
        Example(
            'url = f"https://api.example.org/?key=AIza'
            + 'SyD4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T{x}"\n'
        ),
        Example(
            'TOKEN = (\n    "ghp_R2d2C3poB8Bb8Kx5"\n    "Ww9Qq1Zz4Yy7Tt0Uu3Vv"\n)\n',
            expect=1,
        ),
    )
    valid = (
        'AWS_KEY = "AKIAIOSFODNN7EXAMPLE"\n',
        'GITHUB_TOKEN = "ghp_" + "x" * 36\n',
        'STRIPE_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"\n',
        'TOKEN = "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"\n',
        'HEADER = "-----BEGIN RSA PRIVATE KEY-----"\n',
        'PEM = "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----"\n',
        Example(
            'def test_token():\n    assert parse("ghp_FAKE0000000000000000000000000000000000")\n',
            path="tests/test_token.py",
        ),
        # jwt.io's sample token, in countless tutorials.
        'JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6Ikpva'
        'G4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"\n',
        'api_key = "9f8a7b6c5d4e3f2a1b0c"\n',
        'SLACK_TOKEN = "xoxb-12345"\n',
        # An OpenAPI example is published with the API's docs.
        "from pydantic import Field\nSecret = Field(examples=['whsec_"
        + "ovyN6cPrTv56AApvzCaJno08SSmGJmgbWilb33N2JuK'])\n",
        'EXAMPLES = {"webhook": {"example": "xoxb-'
        + '2837465019-1928374650918-Hx7Kq2Lm9Np4Rs6Tv8Wz1Yb"}}\n',
        # A JWT minted for tests: its payload names an example.com user.
        'JWT = "eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIn0'
        '.k3Hq9vZx2Lr7Tn0Wb5Ys8Pd1Fg4Jc6Mu"\n',
    )

    @cached_property
    def _markers(self) -> tuple[str, ...]:
        return self.str_list_option("fake-markers")

    def _reported_tokens(self, text: str, *, test: bool) -> list[TokenMatch]:
        """The tokens of ``text`` worth a finding: in tests, private keys only on request
        (a test suite keeps keys to sign its own tokens; a key that signs real ones lives
        elsewhere, where it is always reported)."""
        tokens = find_tokens(text, self._markers)
        if test and not self.option("include-test-private-keys"):
            tokens = [token for token in tokens if not token.is_key_block]
        return tokens

    # --- Python source: every string literal

    def applies_to(self, ctx: FileContext) -> bool:
        # One regex pass over the file spares the walk of files with no token prefix.
        return super().applies_to(ctx) and might_hold_token(ctx.text)

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._inside: set[int] = set()  # literals already read as part of a concatenation
        self._documentation = DocumentationScope()

    # OpenAPI examples are published with the API's docs: not a leak of a live credential.

    def visit_Arg(self, node: cst.Arg) -> None:
        self._documentation.enter(node, node.keyword.value if node.keyword else None)

    def leave_Arg(self, original_node: cst.Arg) -> None:
        self._documentation.leave(original_node)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        self._documentation.enter(node, key_text(node.key))

    def leave_DictElement(self, original_node: cst.DictElement) -> None:
        self._documentation.leave(original_node)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._documentation.enter(node, target_name(target.target))

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self._documentation.leave(original_node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._documentation.enter(node, target_name(node.target))

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._documentation.leave(original_node)

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        if id(node) in self._inside:
            return
        # A token may be split over the parts of an implicit concatenation: read it whole.
        self._inside.update(id(part) for part in string_parts(node))
        self._scan(node)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if id(node) not in self._inside:
            self._scan(node)

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        if id(node) not in self._inside:
            self._scan(node)

    def _scan(self, node: StringNode) -> None:
        if self._documentation.inside:
            return
        tokens = self._reported_tokens(scanned_text(node), test=self.ctx.is_test)
        if not tokens:
            return
        where = "test code" if self.ctx.is_test else "a string literal"
        more = f" (and {len(tokens) - 1} more)" if len(tokens) > 1 else ""
        self.report(node, f"{_describe(tokens[0])} in {where}{more}", secret=True)

    # --- Text fixtures under test directories

    def check_text(self, ctx: TextContext) -> Iterable[TextFinding]:
        return list(self._fixture_findings(ctx))

    def _fixture_findings(self, ctx: TextContext) -> Iterator[TextFinding]:
        tokens = self._reported_tokens(ctx.text, test=True)
        if not tokens:
            return
        starts = _line_starts(ctx.text)
        for token in tokens:
            start = _position(starts, token.start)
            # A token never spans a line break: it ends on the line it starts on.
            end = Position(start.line, start.column + token.end - token.start)
            span = Span(start, end)
            yield TextFinding(span, f"{_describe(token)} in a test fixture", secret=True)


def _describe(token: TokenMatch) -> str:
    """The token's kind and the most of it any output may show."""
    if token.is_key_block:
        return token.kind  # the header is all that would show: nothing secret, nothing useful
    return f"{token.kind} (`{shown(token.value)}`)"


def _line_starts(text: str) -> list[int]:
    """The offset of each line's first character, with the line breaks
    ``source.split_lines`` uses (so that line numbers match ``TextContext.lines``)."""
    starts = [0]
    for line in split_lines(text, keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _position(starts: list[int], offset: int) -> Position:
    """The 1-based line and code-point column of ``offset``."""
    line = bisect.bisect_right(starts, offset) - 1
    return Position(line + 1, offset - starts[line] + 1)

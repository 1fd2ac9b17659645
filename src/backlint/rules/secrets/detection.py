"""Recognising secrets in plain strings, shared by BL801 and BL802.

Two questions, kept apart:

* **Is this a known token format?** (BL802) ``find_tokens`` scans any text (a string
  literal's value, or a whole fixture file) for credentials whose shape identifies them:
  AWS key ids, GitHub and Slack tokens, private key blocks, signed JWTs, Stripe live keys
  and a few more, skipping values that carry a fake marker.
* **Is a literal under a secret-looking name a real value, or a label?** (BL801)
  ``secret_phrase`` tells whether an identifier names a secret; ``is_label`` applies the
  value filters that drop what such names usually hold in real code (header names,
  enum values, templates, paths).

Nothing here imports or runs analysed code; everything works on ``str``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from backlint.rules.identifiers import SECRET_WORDS, Phrase

# --------------------------------------------------------------------------------------
# Token formats (BL802)

# A token starts and ends where a run of token characters does: ``xghp_…`` is not a
# GitHub token, and neither is the middle of a longer base64 blob.
_START = r"(?<![A-Za-z0-9_])"
_END = r"(?![A-Za-z0-9_])"
_END_DASH = r"(?![A-Za-z0-9_-])"


@dataclass(frozen=True)
class TokenFormat:
    """One recognisable credential shape; the ``value`` group is the secret itself."""

    kind: str
    pattern: re.Pattern[str]


def _format(kind: str, regex: str) -> TokenFormat:
    return TokenFormat(kind, re.compile(regex))


_PRIVATE_KEY = "private key block"
_JWT = "JSON Web Token"

FORMATS: tuple[TokenFormat, ...] = (
    _format("AWS access key ID", _START + r"(?P<value>AKIA[0-9A-Z]{16})(?![0-9A-Za-z])"),
    _format("AWS temporary access key ID", _START + r"(?P<value>ASIA[0-9A-Z]{16})(?![0-9A-Za-z])"),
    # A secret access key has no shape of its own (40 base64 characters): it is only
    # recognisable next to its conventional key name, as in .env files and credentials.
    _format(
        "AWS secret access key",
        r"(?i:aws_?secret_?access_?key)[\"']?\s*[:=]\s*[\"']?"
        r"(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
    ),
    _format("GitHub personal access token", _START + r"(?P<value>ghp_[A-Za-z0-9]{36,255})" + _END),
    _format("GitHub OAuth token", _START + r"(?P<value>gho_[A-Za-z0-9]{36,255})" + _END),
    _format("GitHub user-to-server token", _START + r"(?P<value>ghu_[A-Za-z0-9]{36,255})" + _END),
    _format("GitHub server-to-server token", _START + r"(?P<value>ghs_[A-Za-z0-9]{36,255})" + _END),
    _format("GitHub refresh token", _START + r"(?P<value>ghr_[A-Za-z0-9]{36,255})" + _END),
    _format(
        "GitHub fine-grained personal access token",
        _START + r"(?P<value>github_pat_[A-Za-z0-9_]{60,255})" + _END,
    ),
    _format(
        "GitLab personal access token", _START + r"(?P<value>glpat-[A-Za-z0-9_-]{20,})" + _END_DASH
    ),
    _format(
        "Slack token",
        _START + r"(?P<value>xox[abeoprs](?:\.xox[bp])?-[0-9]+-[A-Za-z0-9-]{10,})" + _END_DASH,
    ),
    _format(
        "Slack webhook URL",
        r"(?P<value>https://hooks\.slack\.com/(?:services|workflows|triggers)/"
        r"T[A-Z0-9]{6,}/[A-Z0-9]{6,}/[A-Za-z0-9]{16,})",
    ),
    _format(
        _PRIVATE_KEY,
        r"(?P<value>-----BEGIN (?:(?P<algorithm>[A-Z0-9]+(?: [A-Z0-9]+)?) )?"
        r"PRIVATE KEY(?: BLOCK)?-----)",
    ),
    # Signed tokens only: the header and the payload are base64url JSON objects (``{"``
    # encodes as ``eyJ``) and a signature follows. An unsigned ``alg: none`` token
    # authenticates nothing.
    _format(
        _JWT,
        _START + r"(?P<value>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})"
        r"(?![A-Za-z0-9_-])",
    ),
    _format("Stripe live secret key", _START + r"(?P<value>sk_live_[0-9A-Za-z]{16,})" + _END),
    _format("Stripe live restricted key", _START + r"(?P<value>rk_live_[0-9A-Za-z]{16,})" + _END),
    _format("Stripe webhook signing secret", _START + r"(?P<value>whsec_[A-Za-z0-9]{32,})" + _END),
    _format("Google API key", _START + r"(?P<value>AIza[0-9A-Za-z_-]{35})" + _END_DASH),
    _format(
        "SendGrid API key",
        _START + r"(?P<value>SG\.[0-9A-Za-z_-]{22}\.[0-9A-Za-z_-]{43})" + _END_DASH,
    ),
    # ``T3BlbkFJ`` is base64 for "OpenAI": every classic key carries it.
    _format(
        "OpenAI API key",
        _START + r"(?P<value>sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}"
        r"|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}))" + _END_DASH,
    ),
    _format(
        "Anthropic API key",
        _START + r"(?P<value>sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,})" + _END_DASH,
    ),
    _format(
        "PyPI API token", _START + r"(?P<value>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})" + _END_DASH
    ),
    _format("npm access token", _START + r"(?P<value>npm_[A-Za-z0-9]{36})" + _END),
)

# Every format starts with one of these: a text without any of them needs no more work.
# Cheap enough to run over a whole file before its string literals are looked at.
_HINT = re.compile(
    r"(?<![A-Za-z0-9])(?:AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abeoprs]|eyJ|[rs]k_live_"
    r"|whsec_|AIza|SG\.|sk-|pypi-|npm_)|(?i:aws_?secret)|hooks\.slack\.com|PRIVATE KEY"
)

DEFAULT_FAKE_MARKERS: tuple[str, ...] = (
    "example",
    "dummy",
    "fake",
    "test",
    "sample",
    "placeholder",
    "xxxx",
    "AKIAIOSFODNN7EXAMPLE",
)

# Values published in documentation, recognised exactly: the signature of jwt.io's sample
# token (``{"sub": "1234567890", "name": "John Doe", ...}``), found in many tutorials.
_DOCUMENTED_VALUES = ("SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",)

# A private key block needs a body: a bare header is a marker a parser looks for.
_KEY_BODY_CHARACTERS = 64
_KEY_BODY_WINDOW = 400
_BASE64_CHARACTER = re.compile(r"[A-Za-z0-9+/=]")
_ESCAPED_BREAK = re.compile(r"\\[nr]")

# Fewer distinct characters than this in a token is filler (``ghp_aaaa…``), not a key.
_MIN_DISTINCT = 8
_SEQUENCE_RUN = 8


@dataclass(frozen=True)
class TokenMatch:
    """A credential found in a text: its kind and its code-point range in that text."""

    kind: str
    start: int
    end: int
    value: str

    @property
    def is_key_block(self) -> bool:
        return self.kind.lower().endswith(_PRIVATE_KEY)


def might_hold_token(text: str) -> bool:
    """A quick test: False means ``find_tokens`` finds nothing in ``text``."""
    return _HINT.search(text) is not None


def find_tokens(text: str, fake_markers: Iterable[str] = DEFAULT_FAKE_MARKERS) -> list[TokenMatch]:
    """The credentials in ``text``, in order, without overlaps and without fakes."""
    if not might_hold_token(text):
        return []
    markers = tuple(marker.lower() for marker in fake_markers if marker)
    found: list[TokenMatch] = []
    for token_format in FORMATS:
        for match in token_format.pattern.finditer(text):
            token = _token(token_format, match, text, markers)
            if token is not None:
                found.append(token)
    return _without_overlaps(found)


def _token(
    token_format: TokenFormat, match: re.Match[str], text: str, markers: tuple[str, ...]
) -> TokenMatch | None:
    value = match.group("value")
    start, end = match.span("value")
    if token_format.kind == _PRIVATE_KEY:
        body = _key_body(text[end : end + _KEY_BODY_WINDOW])
        if len(body) < _KEY_BODY_CHARACTERS or _has_marker(body, markers):
            return None
        algorithm = match.group("algorithm")
        kind = f"{algorithm} {_PRIVATE_KEY}" if algorithm else _PRIVATE_KEY.capitalize()
        return TokenMatch(kind, start, end, value)
    if is_fake(value, markers):
        return None
    if token_format.kind == _JWT and not _real_jwt(value, markers):
        return None
    return TokenMatch(token_format.kind, start, end, value)


def _without_overlaps(found: list[TokenMatch]) -> list[TokenMatch]:
    """Keep the earliest (then the longest) of overlapping matches."""
    kept: list[TokenMatch] = []
    for token in sorted(found, key=lambda t: (t.start, -(t.end - t.start))):
        if not kept or token.start >= kept[-1].end:
            kept.append(token)
    return kept


def _key_body(after_header: str) -> str:
    """The base64 characters of a key block's body (up to its END line)."""
    body = after_header.split("-----END", 1)[0]
    body = _ESCAPED_BREAK.sub("", body)  # a PEM inside JSON or a Python string
    return "".join(_BASE64_CHARACTER.findall(body))


def _has_marker(value: str, markers: tuple[str, ...]) -> bool:
    lowered = value.lower()
    return any(marker in lowered for marker in markers)


def has_fake_marker(value: str, markers: Iterable[str] = DEFAULT_FAKE_MARKERS) -> bool:
    """Whether ``value`` contains one of ``markers`` (case-insensitive)."""
    return _has_marker(value, tuple(marker.lower() for marker in markers if marker))


def is_fake(value: str, markers: Iterable[str] = DEFAULT_FAKE_MARKERS) -> bool:
    """Whether a value is obviously not a real credential: a fake marker, a documented
    sample, filler (``xoxb-1-aaaaaaaaaa``) or a keyboard/alphabet run (``AKIA1234567890AB…``)."""
    lowered_markers = tuple(marker.lower() for marker in markers if marker)
    return (
        _has_marker(value, lowered_markers)
        or any(sample in value for sample in _DOCUMENTED_VALUES)
        or len(set(value)) < _MIN_DISTINCT
        or _has_sequence(value, _SEQUENCE_RUN)
    )


def _real_jwt(token: str, markers: tuple[str, ...]) -> bool:
    """Whether a JWT-shaped string decodes to a token about a real subject.

    The header must decode to JSON naming an ``alg``; a payload naming a test or example
    subject (``"email": "user@example.com"``) marks the token as made for tests.
    """
    decoded: list[str] = []
    for part in token.split(".")[:2]:
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            return False
        decoded.append(raw.decode("utf-8", "replace"))
    header, payload = decoded
    return '"alg"' in header.replace(" ", "") and not _has_marker(payload, markers)


# Runs that a person types, not a random generator: the alphabet, digits, a keyboard row.
_SEQUENCES = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "01234567890123456789",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "ZYXWVUTSRQPONMLKJIHGFEDCBA",
    "9876543210",
    "QWERTYUIOPASDFGHJKLZXCVBNM",
)


def _has_sequence(value: str, run: int) -> bool:
    """Whether ``value`` holds ``run`` consecutive characters of a typed sequence."""
    upper = value.upper()
    return any(
        upper[index : index + run] in sequence
        for index in range(len(upper) - run + 1)
        for sequence in _SEQUENCES
    )


def is_sequential(value: str) -> bool:
    """Whether the whole value is a typed sequence (``abcdefgh``, ``12345678``, ``qwertyui``)."""
    upper = value.upper()
    return any(upper in sequence for sequence in _SEQUENCES)


# --------------------------------------------------------------------------------------
# Secret-looking names and label-like values (BL801)

DEFAULT_SECRET_WORDS = SECRET_WORDS
# The spec's suffixes, then (calibrated on real projects) other words that make a name
# metadata about a secret: ``*_TEMPLATE = "password_reset.html"``,
# ``TOKEN_GENERATOR_CLASS = "django…"``, ``password_error``, ``api_key_id``.
DEFAULT_NAME_EXCEPTIONS: tuple[str, ...] = (
    "type",
    "name",
    "url",
    "uri",
    "path",
    "file",
    "dir",
    "header",
    "env",
    "field",
    "prefix",
    "reason",
    "error",
    "message",
    "label",
    "title",
    "template",
    "class",
    "id",
    # Settings that describe how a secret is checked, issued or carried, not the secret:
    # ``PASSWORD_REGEX``, ``TOKEN_AUDIENCE = "fastapi-users:auth"``, ``TOKEN_SCHEME``,
    # ``RESET_TOKEN_SALT`` (a namespace for a signer, public by design).
    "regex",
    "pattern",
    "format",
    "policy",
    "hint",
    "placeholder",
    "help",
    "description",
    "algorithm",
    "scheme",
    "audience",
    "issuer",
    "scope",
    "lifetime",
    "ttl",
    "salt",
    "cookie",
    "endpoint",
    "host",
    "domain",
    "backend",
    "provider",
    "strategy",
    "transport",
    "location",
)
DEFAULT_ENUM_WORDS: tuple[str, ...] = ("bearer", "access", "refresh", "NextToken")


def _same(token: str, word: str, last: bool) -> bool:
    # The last word of a phrase may be plural: ``API_TOKENS`` holds tokens.
    return token == word or (last and token == word + "s")


def secret_phrase(tokens: Phrase, words: Iterable[Phrase]) -> Phrase | None:
    """The first secret word found as consecutive ``tokens``, if any."""
    for phrase in words:
        size = len(phrase)
        for start in range(len(tokens) - size + 1):
            window = tokens[start : start + size]
            last = size - 1
            if all(_same(window[i], word, i == last) for i, word in enumerate(phrase)):
                return phrase
    return None


def ends_with(tokens: Phrase, suffixes: Iterable[Phrase]) -> bool:
    """Whether the identifier ends with one of ``suffixes`` (``token_type`` ends with type)."""
    return any(len(tokens) > len(s) and tokens[-len(s) :] == s for s in suffixes)


_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|/|\./|\.\./)")
# Relative URL paths and route patterns: lowercase segments joined by slashes.
_PATH = re.compile(r"^[a-z0-9_.~-]+(?:/[a-z0-9_.~{}<>:-]*)+$")
_TEMPLATE = re.compile(r"<[^<>]+>|\{\{.*?\}\}|\$\{[^}]*\}|\{[A-Za-z_][\w.]*\}|%\(\w+\)[sdr]")
# Identifiers written as values: event and error codes (``invalid_password``), JSON field
# names (``accessToken``), module paths and file names (``django.contrib.auth.tokens.
# PasswordResetTokenGenerator``, ``password_reset.html``) and HTTP header names.
_IDENTIFIER = re.compile(
    r"^[a-z]+(?:_[a-z0-9]+)+$"
    r"|^[a-z]{2,}(?:[A-Z][a-z]+)+[0-9]*$"
    r"|^[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+(?:\.[A-Z][A-Za-z0-9]*)?$"
    r"|^(?i:x-[a-z0-9-]+)$|^[A-Z][a-z0-9]*(?:-[A-Z][A-Za-z0-9]*)+$"
)
# The start of a known token format followed by a word, no digit: a placeholder with the
# right shape (``token="xoxb-valid"``), never an issued token.
_SHAPE_PLACEHOLDER = re.compile(
    r"^(?:AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abeoprs]-|[sr]k_live_|whsec_|AIza|SG\."
    r"|sk-|pypi-|npm_)[A-Za-z_.-]*$"
)
# Password hashes (bcrypt, argon2, Django's hasher strings): a stored verifier such as a
# fake user's ``hashed_password`` in a demo database, not a secret that opens anything.
_PASSWORD_HASH = re.compile(r"^(?:\$2[abxy]?\$\d\d\$|\$argon2(?:id|i|d)\$|\$pbkdf2|\w+_sha\d+\$)")
# A reference to where the secret is kept (detect-secrets' "indirect reference"): a
# secret manager's address, not its content.
_REFERENCE = re.compile(
    r"^(?:arn:aws:(?:secretsmanager|ssm|kms):|projects/[^/\s]+/secrets/|op://|vault:"
    r"|env:|secret:|secrets:|ssm:|keyvault:|gcp-secret:|sm://|file:)",
    re.IGNORECASE,
)
# Regular expressions (a password policy): their pieces never occur in a random key.
_REGEX_PIECES = ("(?=", "(?!", "\\d", "\\w", "\\s", ".*", ".+", "[a-z", "[A-Z", "[0-9", "{8,")
_MIN_LENGTH = 8
# A run this long of the alphabet or digits is a character set (``SECRET_KEY_CHARSET``).
_ALPHABET_RUN = 10


def _normalized(text: str) -> str:
    return "".join(character for character in text.lower() if character.isalnum())


def is_label(value: str, name: str, enum_words: Iterable[str] = DEFAULT_ENUM_WORDS) -> bool:
    """Whether a literal under a secret-looking ``name`` is a label rather than a secret.

    The spec's value filters: too short, prose (whitespace), a number, an environment
    variable's name, a URL or path, a template, a typed sequence, a UUID, an enum word,
    or the name itself (``PASSWORD = "password"``). Calibration added: runs of one or two
    characters (``"********"`` is a mask), identifiers (codes, field and header names,
    module paths, file names), character sets, token-shaped placeholders, password
    hashes, references to a secret manager (``"vault:secret/app#db"``) and regular
    expressions (a password policy).
    """
    normalized = _normalized(value)
    return (
        len(value) < _MIN_LENGTH
        or any(character.isspace() for character in value)
        or value.isdigit()
        or _ENV_NAME.match(value) is not None
        or _URL.match(value) is not None
        or _PATH.match(value) is not None
        or _TEMPLATE.search(value) is not None
        or is_sequential(value)
        or _UUID.match(value) is not None
        or len(set(value)) < 3
        or any(value.lower() == word.lower() for word in enum_words)
        or (bool(normalized) and normalized in _normalized(name))
        or _IDENTIFIER.match(value) is not None
        or _has_sequence(value, _ALPHABET_RUN)
        or _SHAPE_PLACEHOLDER.match(value) is not None
        or _PASSWORD_HASH.match(value) is not None
        or _REFERENCE.match(value) is not None
        or sum(piece in value for piece in _REGEX_PIECES) >= 2
    )


# A few lowercase words that end with what the value stands in for, or ask to change
# it: the default a settings class or a function ships with (``"secret key"``, ``"super
# secret jwt secret"``, ``"change me"``). Messages and help texts are sentences
# (capitals, punctuation), and a phrase that starts with an article or ends with another
# noun describes a secret (``"a secret"``, ``"private key block"``): both are left alone.
_PLACEHOLDER_PHRASE = re.compile(r"^[a-z0-9_-]+(?: [a-z0-9_-]+){1,5}$")
_SECRET_NOUNS = frozenset(
    {"secret", "secrets", "password", "passwd", "pwd", "pass", "passphrase", "key", "token"}
)
_CHANGE_WORDS = frozenset({"change", "changeme", "changethis"})
_ARTICLES = frozenset({"a", "an", "the"})


def is_placeholder_phrase(value: str) -> bool:
    """Whether ``value`` is a placeholder written as words (``"my secret key"``)."""
    if _PLACEHOLDER_PHRASE.match(value) is None:
        return False
    words = re.split(r"[\s_-]+", value)
    if words[0] in _ARTICLES:
        return False
    return words[-1] in _SECRET_NOUNS or not _CHANGE_WORDS.isdisjoint(words)

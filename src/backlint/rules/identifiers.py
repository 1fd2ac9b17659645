"""Words in identifiers, for the rules that judge a value by its name (BL801, BL811).

``userAPIKey_2`` is the phrase ``("user", "api", "key")``: runs of capitals (an acronym),
capitalised or lowercase words, lowercased, digits dropped (``password2`` is a password).
Configured word lists are split the same way, so ``api_key`` and ``apiKey`` are one
phrase. Applied to identifier text, never to Python source.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

Phrase = tuple[str, ...]

# Words that name a secret (rules.md's ``secret_words``, plus two common spellings):
# the default of BL801's and, extended, of BL811's ``secret-words`` option.
SECRET_WORDS: tuple[str, ...] = (
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "api_key",
    "apikey",
    "private_key",
    "client_secret",
    "access_key",
)

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@functools.lru_cache(maxsize=4096)
def split_identifier(identifier: str) -> Phrase:
    """The lowercase words of an identifier, digits dropped."""
    return tuple(word.lower() for word in _WORD.findall(identifier) if not word.isdigit())


def phrases(words: Iterable[str]) -> tuple[Phrase, ...]:
    """Configured words split like identifiers; empty ones left out."""
    return tuple(phrase for phrase in map(split_identifier, words) if phrase)

"""Which identifiers name a secret or personal data (BL811's vocabulary).

An identifier is split into whole lowercase words (``userEmail`` and ``user_email`` both
give ``user, email``; digits are dropped, so ``password2`` gives ``password``), and a
sensitive word must match whole words, never a substring: ``num_uncertainty`` does not
contain ``cert``. A multi-word entry (``card_number``, ``api_key``) matches consecutive
words.

A sensitive word only makes the identifier sensitive when it is the identifier's *head*:
its last word, or followed only by words that still name the value itself
(``password_plain``, ``email_lower``, ``phone_number``). Anything else after it turns the
identifier into something *about* the value (``token_type``, ``email_template``,
``password_reset_url``, ``email_sent``), and some words before it do too (``has_email``,
``num_tokens``, ``masked_email``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from backlint.rules.identifiers import SECRET_WORDS, Phrase, phrases, split_identifier

SECRET = "a secret"
PERSONAL = "personal data"

# A log line also leaks signing keys, credentials and ``Authorization`` headers.
DEFAULT_SECRET_WORDS = (*SECRET_WORDS, "secret_key", "credential", "authorization")
DEFAULT_PII_WORDS = (
    "email",
    "phone",
    "ssn",
    "iban",
    "card_number",
    "credit_card",
    "cvv",
    "dob",
    "date_of_birth",
    "birth_date",
    "birthdate",
    "address",
    "passport",
)
# Words that may follow a sensitive word while the identifier still holds the value.
DEFAULT_VALUE_SUFFIXES = (
    "value",
    "str",
    "string",
    "bytes",
    "raw",
    "plain",
    "plaintext",
    "text",
    "clear",
    "cleartext",
    "encoded",
    "decoded",
    "lower",
    "upper",
    "normalized",
    "normalised",
    "confirm",
    "confirmation",
    "input",
    "number",
    "line",
    "new",
    "old",
    "again",
    "repeat",
)
# Endings that make an identifier metadata: never sensitive, even after a value word,
# and a metadata value under a sensitive key (``extra={"email": user_id}``) is fine.
DEFAULT_METADATA_SUFFIXES = (
    "id",
    "pk",
    "uuid",
    "type",
    "name",
    "count",
    "length",
    "len",
    "size",
    "expires_at",
    "expires",
    "expiry",
    "expiration",
    "exp",
    "ttl",
    "at",
    "status",
    "sent",
    "verified",
    "confirmed",
    "enabled",
    "required",
    "changed",
    "set",
    "hash",
    "hashed",
    "digest",
    "masked",
    "redacted",
)
# Words that, anywhere before the sensitive word, make the identifier metadata.
DEFAULT_METADATA_PREFIXES = (
    "has",
    "is",
    "was",
    "no",
    "should",
    "can",
    "must",
    "needs",
    "use",
    "allow",
    "enable",
    "require",
    "num",
    "n",
    "max",
    "min",
    "total",
    "count",
    "masked",
    "mask",
    "redacted",
    "hashed",
    "encrypted",
    "obfuscated",
    "anonymized",
    "anonymised",
)
# Identifiers that contain a sensitive word but are something else: network addresses,
# the addresses of organisations, and pagination or LLM token counts.
DEFAULT_IGNORE_WORDS = (
    "ip_address",
    "ipv4_address",
    "ipv6_address",
    "mac_address",
    "remote_address",
    "client_address",
    "server_address",
    "host_address",
    "bind_address",
    "listen_address",
    "peer_address",
    "socket_address",
    "proxy_address",
    "wallet_address",
    "contract_address",
    "memory_address",
    # The addresses of groups, organisations and the application itself, not of people.
    "group_email",
    "team_email",
    "list_email",
    "channel_email",
    "support_email",
    "from_email",
    "noreply_email",
    "organization_email",
    "company_email",
    "company_address",
    "organization_address",
    "warehouse_address",
    "shop_address",
    "store_address",
    "next_token",
    "page_token",
    "pagination_token",
    "continuation_token",
    "input_tokens",
    "output_tokens",
    "prompt_tokens",
    "completion_tokens",
    # More counters of LLM usage reports (OpenAI, Anthropic, Gemini).
    "cached_tokens",
    "reasoning_tokens",
    "thinking_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "candidates_tokens",
    "llm_tokens",
)


def _same_word(token: str, word: str, last: bool) -> bool:
    """Whether ``token`` is ``word``, or its plural when it ends the phrase."""
    return token == word or (last and token in (word + "s", word + "es"))


def _matches(tokens: Phrase, phrase: Phrase) -> bool:
    return len(tokens) == len(phrase) and all(
        _same_word(token, word, index == len(phrase) - 1)
        for index, (token, word) in enumerate(zip(tokens, phrase, strict=True))
    )


@dataclass(frozen=True)
class Vocabulary:
    """The word lists of one configuration, already split into words (hashable, picklable)."""

    secret_words: tuple[Phrase, ...]
    pii_words: tuple[Phrase, ...]
    value_suffixes: frozenset[str]
    metadata_suffixes: tuple[Phrase, ...]
    metadata_prefixes: frozenset[str]
    ignore_words: tuple[Phrase, ...]

    @classmethod
    def build(
        cls,
        *,
        secret_words: Iterable[str] = DEFAULT_SECRET_WORDS,
        pii_words: Iterable[str] = DEFAULT_PII_WORDS,
        value_suffixes: Iterable[str] = DEFAULT_VALUE_SUFFIXES,
        metadata_suffixes: Iterable[str] = DEFAULT_METADATA_SUFFIXES,
        metadata_prefixes: Iterable[str] = DEFAULT_METADATA_PREFIXES,
        ignore_words: Iterable[str] = DEFAULT_IGNORE_WORDS,
    ) -> Vocabulary:
        return cls(
            phrases(secret_words),
            phrases(pii_words),
            frozenset(word for phrase in phrases(value_suffixes) for word in phrase),
            phrases(metadata_suffixes),
            frozenset(word for phrase in phrases(metadata_prefixes) for word in phrase),
            phrases(ignore_words),
        )

    def kind(self, identifier: str) -> str | None:
        """``SECRET`` or ``PERSONAL`` when ``identifier`` names such a value, else None."""
        return _kind(self, identifier)

    def is_metadata(self, identifier: str) -> bool:
        """Whether ``identifier`` names something about a value (``user_id``, ``has_x``)."""
        tokens = split_identifier(identifier)
        return bool(tokens) and (
            tokens[0] in self.metadata_prefixes or self._ends_as_metadata(tokens)
        )

    def _ends_as_metadata(self, tokens: Phrase) -> bool:
        return any(
            len(tokens) >= len(suffix) and _matches(tokens[-len(suffix) :], suffix)
            for suffix in self.metadata_suffixes
        )

    def _ignored(self, tokens: Phrase, start: int, end: int) -> bool:
        """Whether the match ``tokens[start:end]`` lies inside an ignored phrase."""
        for phrase in self.ignore_words:
            first = max(0, end - len(phrase))
            for begin in range(first, start + 1):
                if _matches(tokens[begin : begin + len(phrase)], phrase):
                    return True
        return False

    def _is_head(self, tokens: Phrase, start: int, end: int) -> bool:
        """Whether the word at ``tokens[start:end]`` is what the identifier holds."""
        return (
            all(token in self.value_suffixes for token in tokens[end:])
            and not any(token in self.metadata_prefixes for token in tokens[:start])
            and not self._ignored(tokens, start, end)
        )

    def _head(self, tokens: Phrase) -> tuple[str, int, int] | None:
        """``(kind, start, end)`` of the sensitive word the identifier holds, if any."""
        if not tokens or self._ends_as_metadata(tokens):
            return None
        for start in range(len(tokens)):
            for kind, words in ((SECRET, self.secret_words), (PERSONAL, self.pii_words)):
                for phrase in words:
                    end = start + len(phrase)
                    if (
                        end <= len(tokens)
                        and _matches(tokens[start:end], phrase)
                        and self._is_head(tokens, start, end)
                    ):
                        return kind, start, end
        return None

    def classify(self, tokens: Phrase) -> str | None:
        head = self._head(tokens)
        return head[0] if head is not None else None

    def kind_of_attribute(self, owner: str, attribute: str) -> str | None:
        """Like ``kind``, for ``<owner>.<attribute>``: the owner's name may make the value
        one of ``ignore_words`` (``support_group.email`` reads as ``group_email``)."""
        tokens = split_identifier(attribute)
        head = self._head(tokens)
        if head is None:
            return None
        kind, start, end = head
        owner_words = split_identifier(owner)
        offset = len(owner_words)
        if owner_words and self._ignored(owner_words + tokens, start + offset, end + offset):
            return None
        return kind


@functools.lru_cache(maxsize=8192)
def _kind(vocabulary: Vocabulary, identifier: str) -> str | None:
    return vocabulary.classify(split_identifier(identifier))

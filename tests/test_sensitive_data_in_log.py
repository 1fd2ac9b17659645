"""BL811 sensitive-data-in-log beyond its examples: the vocabulary, messages, positions,
options, and what only the project pass can decide (imported loggers, model fields)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import rule_findings
from cli_helpers import write_files as _write

from backlint.diagnostics import Diagnostic
from backlint.rules.identifiers import split_identifier
from backlint.rules.logging_rules.words import PERSONAL, SECRET, Vocabulary

VOCABULARY = Vocabulary.build()


def _check(root: Path, *paths: Path) -> list[Diagnostic]:
    return rule_findings(root, "BL811", *paths)


def _messages(root: Path, source: str, path: str = "app/services/example.py") -> list[str]:
    _write(root, {path: source})
    return [d.message for d in _check(root)]


# The vocabulary ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "words"),
    [
        ("userEmail", ("user", "email")),
        ("user_email", ("user", "email")),
        ("APIKey", ("api", "key")),
        ("SECRET_KEY", ("secret", "key")),
        ("password2", ("password",)),
        ("__token__", ("token",)),
        ("x-api-key", ("x", "api", "key")),
    ],
)
def test_identifiers_split_into_whole_words(identifier: str, words: tuple[str, ...]) -> None:
    assert split_identifier(identifier) == words


@pytest.mark.parametrize(
    ("identifier", "kind"),
    [
        ("password", SECRET),
        ("new_password", SECRET),
        ("password_confirm", SECRET),
        ("access_token", SECRET),
        ("refreshToken", SECRET),
        ("api_key", SECRET),
        ("apiKey", SECRET),
        ("SECRET_KEY", SECRET),
        ("client_secret", SECRET),
        ("Authorization", SECRET),
        ("email", PERSONAL),
        ("emails", PERSONAL),
        ("user_email", PERSONAL),
        ("email_address", PERSONAL),
        ("billing_addresses", PERSONAL),
        ("phone_number", PERSONAL),
        ("card_number", PERSONAL),
        ("dob", PERSONAL),
        # Metadata about a value, or something else that contains the word.
        ("num_uncertainty", None),
        ("secret_name", None),
        ("token_type", None),
        ("token_expires_at", None),
        ("address_id", None),
        ("user_id", None),
        ("email_template", None),
        ("email_sent", None),
        ("email_verified", None),
        ("password_reset_url", None),
        ("password_hash", None),
        ("has_password", None),
        ("is_email", None),
        ("num_tokens", None),
        ("masked_email", None),
        ("ip_address", None),
        ("remote_address", None),
        ("next_token", None),
        ("prompt_tokens", None),
        ("card", None),
        ("number", None),
        ("passwords_count", None),
    ],
)
def test_default_vocabulary(identifier: str, kind: str | None) -> None:
    assert VOCABULARY.kind(identifier) == kind


def test_vocabulary_words_are_configurable() -> None:
    vocabulary = Vocabulary.build(secret_words=("otp",), pii_words=(), ignore_words=())
    assert vocabulary.kind("otp_code") is None
    assert vocabulary.kind("user_otp") == SECRET
    assert vocabulary.kind("password") is None


def test_metadata_suffixes_win_over_value_suffixes() -> None:
    vocabulary = Vocabulary.build(metadata_suffixes=("value",))
    assert VOCABULARY.kind("token_value") == SECRET
    assert vocabulary.kind("token_value") is None


# Messages and positions ------------------------------------------------------------------


def test_message_names_the_values_their_kind_and_the_call(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/services/auth.py": """
                import logging
                logger = logging.getLogger(__name__)

                def login(user, password):
                    logger.info(f"login {user.email} pw={password}")
            """,
        },
    )
    [found] = _check(tmp_path)
    assert found.message == (
        "Log call `logger.info()` writes `user.email` (personal data) and `password` (a secret)"
    )
    assert (found.span.start.line, found.span.start.column) == (5, 5)
    assert (found.span.end.line, found.span.end.column) == (5, 53)


def test_message_never_shows_logged_literals(tmp_path: Path) -> None:
    messages = _messages(
        tmp_path,
        """
        import logging

        def f(token):
            logging.info("rotated", extra={"password": "hunter2hunter2", "token": token})
            logging.info("pw=%s", "hunter2hunter2")
        """,
    )
    assert messages == ["Log call `logging.info()` writes `token` (a secret)"]
    assert all("hunter2" not in message for message in messages)


def test_words_in_the_message_text_do_not_count(tmp_path: Path) -> None:
    assert (
        _messages(
            tmp_path,
            """
            import logging
            logger = logging.getLogger(__name__)

            def f(user):
                logger.info("token refreshed for %s, password changed", user.id)
                logger.info(f"email sent to user {user.id}")
            """,
        )
        == []
    )


def test_a_sensitive_key_flags_an_opaque_value(tmp_path: Path) -> None:
    messages = _messages(
        tmp_path,
        """
        import logging
        import structlog
        log = structlog.get_logger()

        def f(value, user):
            logging.info("x", extra={"password": value, "email": user.id, "token": None})
            log.info("x", api_key=value, phone=len(value))
        """,
    )
    assert messages == [
        'Log call `logging.info()` writes `extra["password"]` (a secret)',
        "Log call `log.info()` writes `api_key=` (a secret)",
    ]


def test_request_dumps(tmp_path: Path) -> None:
    messages = _messages(
        tmp_path,
        """
        import logging
        from flask import request as incoming
        logger = logging.getLogger(__name__)

        async def f(request):
            logger.debug("%s", dict(request.headers))
            logger.debug("%s", await request.json())
            logger.debug("%s", incoming.get_json())
            logger.debug("%s", request.headers.get("content-type"))
            logger.debug("%s %s", request.url, request.method)
        """,
    )
    assert messages == [
        "Log call `logger.debug()` writes `request.headers` (all request headers)",
        "Log call `logger.debug()` writes `request.json()` (the whole request body)",
        "Log call `logger.debug()` writes `incoming.get_json()` (the whole request body)",
    ]


def test_masked_and_measured_values_are_fine(tmp_path: Path) -> None:
    assert (
        _messages(
            tmp_path,
            """
            import hashlib
            import logging
            logger = logging.getLogger(__name__)

            def f(user, token, password, send_email):
                logger.info("%s", mask_email(user.email))
                logger.info("%s", redact(token))
                logger.info("%s", hashlib.sha256(password.encode()).hexdigest())
                logger.info("%s...", token[:4])
                logger.info("%s %s", len(password), bool(user.phone))
                logger.info("%s", user.email is None)
                logger.info("%s", send_email)
                logger.info("%s", get_password_hash(password))
            """,
        )
        == []
    )


# Loggers ------------------------------------------------------------------------------


def test_logger_imported_from_a_module_outside_the_run(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/core/__init__.py": "",
            "app/core/log.py": "import structlog\naudit = structlog.get_logger('audit')\n",
            "app/core/things.py": "class Registry:\n    def info(self, x): ...\nreg = Registry()\n",
            "app/services/users.py": """
                from app.core.log import audit
                from app.core.things import reg

                def f(user):
                    audit.info("invited", email=user.email)
                    reg.info(user.email)
            """,
        },
    )
    # Only the importing file is checked, as pre-commit does.
    found = _check(tmp_path, tmp_path / "app/services/users.py")
    assert [d.span.start.line for d in found] == [5]


def test_derived_and_context_loggers(tmp_path: Path) -> None:
    messages = _messages(
        tmp_path,
        """
        import structlog
        from loguru import logger

        def f(user, token):
            logger.opt(lazy=True).info("x {}", token)
            structlog.get_logger().bind(email=user.email)
            structlog.contextvars.bind_contextvars(token=token)
        """,
    )
    assert len(messages) == 3


def test_print_only_with_the_option_and_never_in_tests(tmp_path: Path) -> None:
    source = """
        def f(token):
            print("token", token)
    """
    _write(tmp_path, {"app/cli.py": source, "tests/test_cli.py": source})
    assert _check(tmp_path) == []
    _write(
        tmp_path,
        {"pyproject.toml": "[tool.backlint.options.sensitive-data-in-log]\ninclude-print = true\n"},
    )
    assert [d.path.rpartition("/")[2] for d in _check(tmp_path)] == ["cli.py"]


def test_project_logging_helpers(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pyproject.toml": """
                [tool.backlint.options.sensitive-data-in-log]
                log-functions = ["app.utils.log"]
            """,
            "app/__init__.py": "",
            "app/utils.py": "def log(channel, format, **kwargs): ...\n",
            "app/auth.py": """
                from app.utils import log

                def register(user):
                    log("registrations", format="{name} with {email}", email=user.email)
            """,
        },
    )
    [found] = _check(tmp_path)
    assert found.message == "Log call `log()` writes `user.email` (personal data)"


def test_word_lists_are_options(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pyproject.toml": """
                [tool.backlint.options.sensitive-data-in-log]
                pii-words = ["email"]
                ignore-words = ["support_email"]
            """,
            "app/services/mail.py": """
                import logging

                def f(phone, support_email, email):
                    logging.info("%s %s", phone, support_email)
                    logging.info("%s", email)
            """,
        },
    )
    assert [d.span.start.line for d in _check(tmp_path)] == [5]


def test_noqa_suppresses(tmp_path: Path) -> None:
    assert (
        _messages(
            tmp_path,
            """
            import logging

            def f(email):
                logging.info("%s", email)  # noqa: BL811
            """,
        )
        == []
    )


# Models -------------------------------------------------------------------------------

_MODELS = {
    "app/__init__.py": "",
    "app/schemas/__init__.py": "from app.schemas.users import UserCreate, UserLogin\n",
    "app/schemas/base.py": """
        from pydantic import BaseModel

        class Base(BaseModel):
            email: str
    """,
    "app/schemas/users.py": """
        from typing import ClassVar, Optional
        from pydantic import Field, SecretStr
        from app.schemas.base import Base

        class UserCreate(Base):
            password: str = Field(repr=False)
            kind: ClassVar[str] = "user"

        class UserLogin(Base):
            email: SecretStr
            password: Optional[SecretStr] = None

        class Page(Base):
            email: Optional[SecretStr]
            title: str
    """,
    "app/config.py": """
        from pydantic_settings import BaseSettings
        from pydantic import SecretStr

        class Settings(BaseSettings):
            SECRET_KEY: SecretStr
            SMTP_PASSWORD: str

        settings = Settings()
    """,
}


def test_whole_model_dumps_name_the_sensitive_fields(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            **_MODELS,
            "app/services/users.py": """
                import logging
                from app.schemas import UserCreate, UserLogin
                from app.schemas.users import Page
                logger = logging.getLogger(__name__)

                def create(user_in: UserCreate, login: UserLogin, page: Page):
                    logger.info("%s", user_in.model_dump())
                    logger.info("%s", user_in)
                    logger.info("%s", user_in.model_dump(exclude={"password"}))
                    logger.info("%s %s", login.dict(), repr(page))
                    other = UserCreate.model_validate({})
                    logger.info("%s", other.model_dump_json())
            """,
        },
    )
    assert [d.message for d in _check(tmp_path)] == [
        "Log call `logger.info()` writes `user_in.model_dump()` (model `UserCreate` with "
        "fields `email` and `password`)",
        # ``repr=False`` keeps the password out of ``str()``; the inherited email stays.
        "Log call `logger.info()` writes `user_in` (model `UserCreate` with field `email`)",
        "Log call `logger.info()` writes `other.model_dump_json()` (model `UserCreate` with "
        "fields `email` and `password`)",
    ]


def test_secret_str_fields_and_annotations_mask_themselves(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            **_MODELS,
            "app/services/mail.py": """
                import logging
                from pydantic import SecretStr
                from app.config import settings
                from app.schemas import UserLogin
                logger = logging.getLogger(__name__)

                def send(login: UserLogin, token: SecretStr):
                    logger.info("%s %s %s", login.password, login.email, token)
                    logger.info("%s", settings.SECRET_KEY)
                    logger.info("%s", settings.SMTP_PASSWORD)
                    logger.info("%s", settings.SECRET_KEY.get_secret_value())
            """,
        },
    )
    found = _check(tmp_path, tmp_path / "app/services/mail.py")
    assert [d.message for d in found] == [
        "Log call `logger.info()` writes `settings.SMTP_PASSWORD` (a secret)",
        "Log call `logger.info()` writes `settings.SECRET_KEY.get_secret_value()` (a secret)",
    ]


def test_the_owner_of_an_attribute_may_make_it_ignored() -> None:
    assert VOCABULARY.kind_of_attribute("tactical_group", "email") is None
    assert VOCABULARY.kind_of_attribute("settings", "DEFAULT_FROM_EMAIL") is None
    assert VOCABULARY.kind_of_attribute("warehouse", "address") is None
    assert VOCABULARY.kind_of_attribute("individual", "email") == PERSONAL
    assert VOCABULARY.kind_of_attribute("project", "owner_email") == PERSONAL
    assert VOCABULARY.kind_of_attribute("group", "api_key") == SECRET


def test_literals_in_shown_code_are_elided(tmp_path: Path) -> None:
    messages = _messages(
        tmp_path,
        """
        import logging
        logger = logging.getLogger("audit")

        def f(data, clients):
            logger.info("%s", data["password"])
            logger.info("%s", clients.get("sk_live_abcdefgh").api_key)
            logger.info("%s", get_token("sk_live_abcdefgh"))
        """,
    )
    assert messages == [
        'Log call `logger.info()` writes `data["password"]` (a secret)',
        'Log call `logger.info()` writes `clients.get("…").api_key` (a secret)',
        'Log call `logger.info()` writes `get_token("…")` (a secret)',
    ]


def test_long_concatenations_do_not_exhaust_the_stack(tmp_path: Path) -> None:
    terms = " + ".join(["x"] * 400)
    source = f"import logging\n\ndef f(x, password):\n    logging.info({terms} + password)\n"
    # The walk is bounded (``_check`` asserts no internal error); near values still count.
    assert _messages(tmp_path, source) == ["Log call `logging.info()` writes `password` (a secret)"]


def test_ignore_words_see_the_owner_of_an_attribute() -> None:
    vocabulary = Vocabulary.build(ignore_words=("checkout_token",))
    assert vocabulary.kind_of_attribute("checkout", "token") is None
    assert vocabulary.kind_of_attribute("invite", "token") == SECRET
    assert vocabulary.kind("checkout_token") is None

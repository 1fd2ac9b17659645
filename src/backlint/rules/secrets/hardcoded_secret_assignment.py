from __future__ import annotations

import re
from functools import cached_property

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.engine.redaction import shown
from backlint.index.frameworks import ENUM_ROOTS
from backlint.rules.base import Condition, Example, FileRule, Option
from backlint.rules.identifiers import Phrase, phrases, split_identifier
from backlint.rules.layers.common import NotDerivedFrom
from backlint.rules.secrets.context import (
    DocumentationScope,
    is_throwaway_module,
    key_text,
    names_local_service,
    target_name,
)
from backlint.rules.secrets.detection import (
    DEFAULT_ENUM_WORDS,
    DEFAULT_FAKE_MARKERS,
    DEFAULT_NAME_EXCEPTIONS,
    DEFAULT_SECRET_WORDS,
    ends_with,
    has_fake_marker,
    is_label,
    is_placeholder_phrase,
    secret_phrase,
)
from backlint.rules.secrets.literals import static_value

# A dict or subscript key is a name only when it reads like one (``"password"``,
# ``"X-Auth-Token"``); other strings are data, and never shown in a message.
_KEY_NAME = re.compile(r"[A-Za-z_][\w.-]{0,63}")

# Bases that are certainly not enums: no need to ask the project pass.
_NOT_ENUM_PACKAGES = (
    "builtins.",
    "typing.",
    "abc.",
    "pydantic",
    "django.",
    "sqlalchemy.",
    "sqlmodel.",
)


class HardcodedSecretAssignment(FileRule):
    """
    ## What it does
    Flags a string literal written under a name that says it is a secret: assigned to a
    variable, attribute or annotated field, passed as a keyword argument, used as a
    parameter default, or stored under a dict or subscript key (`{"PASSWORD": ...}`,
    `os.environ["API_TOKEN"] = ...`). A name is secret-looking when, split into
    snake_case/camelCase words, it contains one of the `secret-words` (`password`,
    `passwd`, `pwd`, `passphrase`, `secret`, `token`, `api_key`, `apikey`,
    `private_key`, `client_secret`, `access_key`); a multi-word entry matches consecutive
    words (`STRIPE_API_KEY`, `apiKey`) and the last word may be plural.

    A placeholder written as a few lowercase words (`SECRET_KEY = "secret key"`,
    `SECRET: str = "super secret jwt secret"`, `password="change me"` as a parameter
    default, `app.config["SECRET_KEY"] = "dev secret key"`) is reported as a *default
    secret in code*, with its own message: it is what the program runs with wherever
    nobody overrides it. This applies to the values of public variables, attributes,
    fields, parameter defaults and configuration subscripts whose name ends
    with the secret itself (`secret`, `password`, `SECRET_KEY`, `api_key`), and to
    phrases that end with the secret's noun (`secret`, `password`, `pass`, `key`,
    `token`) or ask to change it (`change me`). A phrase that starts with an article or
    ends with another noun describes a secret rather than standing in for one
    (`SECRET = "a secret"`, `_PRIVATE_KEY = "private key block"`, labels in messages).

    What such names hold *in real code* is left alone:
    - metadata, named by a last word in `name-exceptions`: `token_type`, `secret_name`,
      `token_url`, `api_key_header`, `PASSWORD_ENV`, `token_prefix`,
      `token_fail_reason`, `password_error`, `PASSWORD_RESET_TEMPLATE`,
      `TOKEN_GENERATOR_CLASS`, `api_key_id`, and settings that say how a secret is
      checked or issued (`PASSWORD_REGEX`, `TOKEN_AUDIENCE`, `TOKEN_ALGORITHM`,
      `RESET_TOKEN_SALT`, `TOKEN_COOKIE`, …);
    - values that cannot be a secret: shorter than 8 characters, containing whitespace
      (messages, help texts; placeholders aside, see above), all digits, an
      environment variable's name (`"DB_PASSWORD"`), a URL or route path, a template
      (`<token>`, `{{ token }}`, `${TOKEN}`, `{password}`, `%(password)s`), a typed
      sequence (`"12345678"`) or a character set (`"abcdefghij…0123456789"`), a UUID,
      a run of one or two characters (`"********"`), one of the `enum-words`
      (`bearer`, `NextToken`), the name itself (`PASSWORD_RESET = "password_reset"`),
      an identifier (an error code
      `"invalid_password"`, a JSON field `"accessToken"`, a module path, a file name
      `"password_reset.html"`, a header name `"X-Api-Key"`), the bare prefix of a token
      format (`token="xoxb-valid"`), a password hash (`"$2b$12$…"`,
      `"pbkdf2_sha256$…"`), a reference to a secret manager (`"vault:secret/app#db"`,
      `"arn:aws:secretsmanager:…"`), a regular expression, or a value with one of the
      `fake-markers` (`example`, `dummy`, `fake`, `test`, …);
    - f-strings that interpolate: they are templates filled at run time;
    - members of enums and Django choices (`class Kind(Enum): API_KEY = "api-key-v2"`),
      also through an enum base class defined in another module: they are labels;
    - OpenAPI examples, published with the API's documentation: values under an
      `example`, `examples`, `openapi_examples`, `json_schema_extra` or `schema_extra`
      keyword, key or attribute (`Field(json_schema_extra={"example": {...}})`);
    - credentials of a service on the developer's machine: a dict or call that also
      holds a local URL (`{"issuer": "http://localhost:8080", "client_secret": ...}`,
      a mock OIDC server's seed);
    - test code, and modules whose path says they hold throwaway data: a file name with
      `test`, `testing`, `mock`, `fake`, `seed`, `demo`, `sample`, `fixture`, `stub`,
      `dummy` or `factories` (`configuration_testing.py`, `settings/test.py`,
      `scripts/seeds_load.py`), or a folder named like one or `examples` (`mocks/`,
      `seeds/`, `fixtures/`, `demo/`).

    Known token formats, anywhere and in tests too, are BL802's; a token in a known
    format under a secret name gets both findings. The message shows at most the first
    four characters of the value, never more than a quarter of it (`"hunter2hunter2"`
    shows as `hun***`); every output that shows the source line (`full`, `--diff`)
    masks the literal the same way, with a mask of fixed length.

    ## Why is this bad?
    A secret in source code is in every clone, fork, backup and CI log of the
    repository, and in its history for good once committed. It cannot be rotated without
    a release, and every environment shares it. A default password or key in code is
    the same problem: whoever reads the code can log in wherever it was not changed.

    ## Example
    ```python
    STRIPE_SECRET = "sk_live_51Hx…"
    client = Client(api_key="9f8a7b6c5d4e3f2a1b0c")
    ```

    Use instead:
    ```python
    STRIPE_SECRET = os.environ["STRIPE_SECRET"]
    client = Client(api_key=settings.payment_api_key)
    ```

    ## How to fix
    Read the value from the environment or a secret manager (pydantic-settings,
    `os.environ`, Vault) and rotate the leaked one. Silence a deliberate default with
    `# noqa: BL801` and a reason; extend `name-exceptions` or `enum-words` when a whole
    family of names or values is a label in your code base.

    Defaults and calibration: there is no entropy threshold, as the spec asks, so a weak
    hand-written password (`"MyPassword"`) is as much a finding as a random key, and a
    Django `SECRET_KEY = "django-insecure-…"` left in a settings module is reported: it
    signs sessions and reset tokens wherever the environment does not override it. The
    spec's name suffixes and value filters did not cover what real projects hold under
    these names. Calibration on mealie, dispatch, netbox, plane, redash, CTFd, saleor
    and the full-stack FastAPI template added: the suffixes `template`, `class`
    (saleor's `*_PASSWORD_*_TEMPLATE = "password_reset.html"` and
    `TOKEN_GENERATOR_CLASS`), identifier values, character sets (netbox's
    `SECRET_KEY_CHARSET` and its test configuration's alphabet key), token-shaped
    placeholders (dispatch's `App(token="xoxb-valid")`) and test-configuration modules;
    the suffixes `error`, `message`, `label`, `title`, `id`, `uri`, `file`, `dir`, masks
    and password hashes guard the same kind of label in code seen while reviewing
    those projects' tests and tutorials. Comparisons (`if password == "..."`) are not
    targets: in real code they check for a placeholder
    (`if settings.SECRET_KEY == "changethis": warn(...)`), which is the fix, not the
    problem. Fallbacks of `os.getenv("KEY", "default")` are not followed either.
    A review of findings on backends the rule was not tuned on added the enum, OpenAPI
    example, local-service and seed-module exclusions, and the placeholder phrases:
    `"super secret jwt secret"` had been dropped as prose although it is the key a
    deployment signs tokens with when its environment lacks one.
    """

    code = "BL801"
    name = "hardcoded-secret-assignment"
    summary = "A secret-named variable, argument or key holds a hard-coded string."
    fix_text = "Load from the environment or a secret manager; in tests use obviously fake values."
    severity = Severity.ERROR
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("security", "PQG-6")
    include_tests = False
    options = (
        Option(
            "secret-words",
            DEFAULT_SECRET_WORDS,
            "Words that make a name secret-looking, matched as whole snake/camel words "
            "(`api_key` matches `STRIPE_API_KEY` and `apiKey`).",
        ),
        Option(
            "name-exceptions",
            DEFAULT_NAME_EXCEPTIONS,
            "Last words of names that hold metadata about a secret, not the secret "
            "(`type` skips `token_type`).",
        ),
        Option(
            "enum-words",
            DEFAULT_ENUM_WORDS,
            "Whole values (case-insensitive) that are protocol words, not secrets.",
        ),
        Option(
            "fake-markers",
            DEFAULT_FAKE_MARKERS,
            "Substrings (case-insensitive) that mark a value as fake or a placeholder.",
        ),
    )
    invalid = (
        # Split with ``+`` so that BL802 passes over this file.
        Example('STRIPE_SECRET = "sk_live_' + '51HxQ2cKj8sD0aPq7Z"\n', expect=1),
        Example('client = Client(api_key="9f8a7b6c5d4e3f2a1b0c")\n', expect=1),
        Example(
            """
            class Settings:
                db_password: str = "s3cr3t-Pa55w0rd"
            """,
            expect=1,
        ),
        Example(
            """
            def connect(host, password="hunter2hunter2"):
                ...
            """,
            expect=1,
        ),
        Example('DATABASE = {"NAME": "shop", "PASSWORD": "pg-Pa55w0rd-9"}\n', expect=1),
        Example('headers = {"X-Auth-Token": "a1b2c3d4e5f6a7b8"}\n', expect=1),
        Example('os.environ["GITHUB_TOKEN"] = "0a9b8c7d6e5f4a3b"\n', expect=1),
        Example('API_SECRET = "abc123" "def456ghi"\n', expect=1),
        Example('user, password = "admin", "Adm1n!2024"\n', expect=1),
        Example('apiKey = "AIzaSyA1b2C3d4E5f6G7h8I9j0K"\n', expect=1),
        Example('SECRET_KEY = "django-insecure-k3j4h5g6f7d8s9a0"\n', path="shop/settings.py"),
        # Placeholders written as words: a default secret in code.
        Example('SECRET_KEY = "secret key"\n', path="app/core/config.py", expect=1),
        Example(
            """
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                SECRET: str = "super secret jwt secret"
            """,
            expect=1,
        ),
        Example("def make_app(secret_key='change me'):\n    ...\n", expect=1),
        Example('app.config["SECRET_KEY"] = "dev secret key"\n', expect=1),
        # A class whose base, in another module, is not an enum.
        Example(
            "from app.base import Base\nclass Creds(Base):\n    API_TOKEN = 'gh-deploy-9f8a7b6c'\n",
            files=(("app/base.py", "class Base:\n    pass\n"),),
            expect=1,
        ),
    )
    valid = (
        'TOKEN_TYPE = "bearer"\n',
        'PASSWORD_ENV = "DB_PASSWORD"\n',
        'token_url = "https://example.com/oauth/token"\n',
        'password_reset_path = "/auth/password/reset"\n',
        'PASSWORD_HELP = "Use at least twelve characters."\n',
        'api_key = os.environ["API_KEY"]\n',
        "secret = f\"{prefix}-{os.environ['SUFFIX']}\"\n",
        'PASSWORD_MASK = "********"\n',
        'token = "<your token here>"\n',
        'pagination_token = "NextToken"\n',
        'API_KEY_HEADER = "X-Api-Key"\n',
        'API_KEY = "api-key"\n',
        'client_secret = "00000000-aaaa-bbbb-cccc-000000000000"\n',
        'password = "12345678"\n',
        'token_fail_reason = "expired_or_revoked"\n',
        'API_TOKEN = "your-example-api-token"\n',
        'if password == "hunter2hunter2":\n    pass\n',
        'app = App(token="xoxb-valid")\n',
        'SECRET_KEY_CHARSET = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"\n',
        'TOKEN_GENERATOR_CLASS = "django.contrib.auth.tokens.PasswordResetTokenGenerator"\n',
        'PASSWORD_RESET_DEFAULT_TEMPLATE = "password_reset.html"\n',
        'JWT_INVALID_TOKEN = "invalid_token"\n',
        'REFRESH_TOKEN_KEY = "refreshToken"\n',
        'password_error = "Pa55w0rd-rejected"\n',
        'fake_db = {"alice": {"hashed_password": "$2b$12$EixZaYVK1fbly1JTeQ5Kxe"}}\n',
        Example('SECRET_KEY = "k3j4h5g6f7d8s9a0-local"\n', path="app/settings/testing.py"),
        Example(
            'def test_login(client):\n    client.login("alice", password="correct-horse")\n',
            path="tests/test_login.py",
        ),
        # Messages are sentences, and labels describe a secret: not placeholders.
        'INVALID_TOKEN = "Invalid or expired token."\n',
        'PASSWORD_MISMATCH = "passwords do not match"\n',
        'SECRET = "a secret"\n_PRIVATE_KEY = "private key block"\n',
        # Enum members are labels, also through an enum base in another module.
        "import enum\nclass Provider(str, enum.Enum):\n    GITHUB_TOKEN = 'gh-token-auth'\n",
        Example(
            "from app.base import BaseEnum\n"
            "class Grant(BaseEnum):\n    CLIENT_SECRET = 'oauth2-client-secret-v1'\n",
            files=(("app/base.py", "import enum\nclass BaseEnum(str, enum.Enum):\n    pass\n"),),
        ),
        # OpenAPI examples are documentation.
        """
        from pydantic import BaseModel, ConfigDict, Field

        class Login(BaseModel):
            model_config = ConfigDict(
                json_schema_extra={"examples": [{"password": "s3cr3t-Pa55w0rd"}]}
            )
            token: str = Field(examples=[{"api_key": "9f8a7b6c5d4e3f2a"}])

            class Config:
                schema_extra = {"example": {"client_secret": "a1b2c3d4e5f6a7b8"}}
        """,
        # The seed of a mock OIDC server on localhost.
        'SSO = {"issuer": "http://localhost:8080/default", "client_secret": "polar-secret-9"}\n',
        Example('ADMIN = {"password": "Adm1n!2024x"}\n', path="scripts/seeds_load.py"),
        Example('API_TOKEN = "0a9b8c7d6e5f4a3b"\n', path="app/mocks/server.py"),
        # How a secret is checked or issued, and where it is kept: not the secret.
        'PASSWORD_REGEX = r"^(?=.*[A-Z])(?=.*\\d).{8,}$"\n',
        'RESET_PASSWORD_TOKEN_AUDIENCE = "fastapi-users:reset"\n',
        'DB_PASSWORD = "vault:secret/data/shop#db"\n',
    )

    @cached_property
    def _words(self) -> tuple[Phrase, ...]:
        return phrases(self.str_list_option("secret-words"))

    @cached_property
    def _exceptions(self) -> tuple[Phrase, ...]:
        return phrases(self.str_list_option("name-exceptions"))

    @cached_property
    def _first_words(self) -> tuple[str, ...]:
        return tuple({phrase[0] for phrase in self._words})

    @cached_property
    def _secret_nouns(self) -> frozenset[str]:
        """The words a name ends with when it holds the secret itself: the last word of
        each secret word (``secret``, ``password``, ``key`` of ``api_key``)."""
        return frozenset(phrase[-1] for phrase in self._words)

    def applies_to(self, ctx: FileContext) -> bool:
        if not super().applies_to(ctx) or is_throwaway_module(ctx.relative):
            return False
        # A file that never spells a secret word cannot name a secret: skip its walk.
        lowered = ctx.text.lower()
        return any(word in lowered for word in self._first_words)

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._reported: set[int] = set()
        self._documentation = DocumentationScope()
        # Innermost first: each class or function being walked, and for a class whether
        # it is an enum (True), may be one through a base in another module (a condition)
        # or is not (False).
        self._scopes: list[bool | Condition | None] = []
        # The dicts and calls being walked, innermost last: one that names a local URL
        # configures a service on the developer's machine (asked only when needed).
        self._containers: list[cst.Call | cst.Dict] = []

    # --- Where the walk is

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes.append(self._enum_verdict(node))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._scopes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes.append(None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def visit_Dict(self, node: cst.Dict) -> None:
        self._containers.append(node)

    def leave_Dict(self, original_node: cst.Dict) -> None:
        self._containers.pop()

    def visit_Call(self, node: cst.Call) -> None:
        self._containers.append(node)

    def leave_Call(self, original_node: cst.Call) -> None:
        self._containers.pop()

    def leave_Arg(self, original_node: cst.Arg) -> None:
        self._documentation.leave(original_node)

    def leave_DictElement(self, original_node: cst.DictElement) -> None:
        self._documentation.leave(original_node)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self._documentation.leave(original_node)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._documentation.leave(original_node)

    def _enum_verdict(self, node: cst.ClassDef) -> bool | Condition:
        """Whether the class is an enum: its members are labels, whatever their names."""
        bases = [self.ctx.qualified_name(arg.value) for arg in node.bases if arg.keyword is None]
        known = [base for base in bases if base is not None]
        if any(_is_enum_base(base) for base in known):
            return True
        elsewhere = [base for base in known if not base.startswith(_NOT_ENUM_PACKAGES)]
        if elsewhere and not self._scopes:
            # A base from another module of the project may be an enum (the project pass
            # knows the bases of top-level classes only).
            return NotDerivedFrom(self.ctx.module, node.name.value, ENUM_ROOTS)
        return False

    # --- Targets

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._documentation.enter(node, target_name(target.target))
            self._check_target(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._documentation.enter(node, target_name(node.target))
        if node.value is not None:
            self._check_target(node.target, node.value)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            name = node.keyword.value
            self._documentation.enter(node, name)
            self._check(name, node.value, f"Keyword argument `{name}`", "is")

    def visit_Param(self, node: cst.Param) -> None:
        if node.default is not None:
            name = node.name.value
            self._check(name, node.default, f"Parameter `{name}`", "defaults to", default=True)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        self._documentation.enter(node, key_text(node.key))
        key = _key_name(node.key)
        if key is not None:
            self._check(key, node.value, f'Key `"{key}"`', "holds")

    def _check_target(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)):
            starred = any(
                isinstance(element, cst.StarredElement)
                for element in (*target.elements, *value.elements)
            )
            if not starred and len(target.elements) == len(value.elements):
                for name, item in zip(target.elements, value.elements, strict=True):
                    self._check_target(name.value, item.value)
            return
        if isinstance(target, cst.Name):
            self._check(target.value, value, f"`{target.value}`", "is assigned", default=True)
        elif isinstance(target, cst.Attribute):
            shown_target = _dotted(target) or target.attr.value
            self._check(target.attr.value, value, f"`{shown_target}`", "is assigned", default=True)
        elif isinstance(target, cst.Subscript) and len(target.slice) == 1:
            index = target.slice[0].slice
            key = _key_name(index.value) if isinstance(index, cst.Index) else None
            if key is not None:
                owner = _dotted(target.value) or "…"
                # ``app.config["SECRET_KEY"] = ...``: a setting, like an attribute.
                self._check(key, value, f'`{owner}["{key}"]`', "is assigned", default=True)

    # --- The verdict

    def _check(
        self,
        name: str,
        value_node: cst.BaseExpression,
        subject: str,
        verb: str,
        *,
        default: bool = False,
    ) -> None:
        """``default``: the target is a variable, attribute, field or parameter, whose
        literal is the value the program runs with unless something overrides it."""
        if id(value_node) in self._reported or self._documentation.inside:
            return
        if self._containers and names_local_service(self._containers[-1]):
            return  # credentials of a service on localhost
        tokens = split_identifier(name)
        if secret_phrase(tokens, self._words) is None or ends_with(tokens, self._exceptions):
            return
        value = static_value(value_node)
        if value is None or has_fake_marker(value, self.str_list_option("fake-markers")):
            return
        scope = self._scopes[-1] if self._scopes else None
        if scope is True:
            return  # an enum member: a label
        conditions = (scope,) if scope is not None and not isinstance(scope, bool) else ()
        if not is_label(value, name, self.str_list_option("enum-words")):
            message = f"{subject} {verb} a hard-coded secret (`{shown(value)}`)"
        elif (
            default
            and not name.startswith("_")  # a private constant is a label, not a setting
            and tokens[-1] in self._secret_nouns
            and is_placeholder_phrase(value)
        ):
            message = (
                f"{subject} {verb} a placeholder secret (`{shown(value)}`): a default "
                "secret in code, which the program runs with wherever nobody overrides it"
            )
        else:
            return
        self._reported.add(id(value_node))
        self.report(value_node, message, secret=True, conditions=conditions)


def _is_enum_base(qualified: str) -> bool:
    """An enum or Django choices class, known or by the name a library gives it
    (``strenum.StrEnum``, ``django_enumfield.Enum``)."""
    last = qualified.rsplit(".", 1)[-1]
    return qualified in ENUM_ROOTS or last.endswith(("Enum", "Choices"))


def _key_name(node: cst.BaseExpression) -> str | None:
    """The text of a string key that reads like a name, else None."""
    value = static_value(node) if isinstance(node, cst.SimpleString) else None
    return value if value is not None and _KEY_NAME.fullmatch(value) else None


def _dotted(node: cst.BaseExpression) -> str | None:
    """``settings.db.password`` for a chain of names, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        owner = _dotted(node.value)
        return None if owner is None else f"{owner}.{node.attr.value}"
    return None

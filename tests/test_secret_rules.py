"""BL801 hardcoded-secret-assignment and BL802 secret-literal.

The rules' own examples run in ``test_rule_examples.py``; this file covers what they
cannot: text fixtures (JSON, YAML cassettes, ``.env``) read through the CLI, positions in
those files, options, and above all that no output format ever prints a secret.

Every token below is assembled with ``+`` at run time so that secret scanners (BL802
included) do not flag this file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import every_rule

from backlint.engine.redaction import Masked, mask_line, shifted_column, shown, visible_length
from backlint.rules.identifiers import split_identifier
from backlint.rules.secrets.context import is_local_url, is_throwaway_module
from backlint.rules.secrets.detection import (
    find_tokens,
    is_fake,
    is_label,
    is_placeholder_phrase,
    secret_phrase,
)

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONSAFEPATH": "1"}
FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github", "gitlab")

GITHUB = "ghp_" + "R2d2C3poB8Bb8Kx5Ww9Qq1Zz4Yy7Tt0Uu3Vv"
GITHUB_SPLIT = ("ghp_" + "Q7w3E9r1T5y8U2i4O6p0", "Az8Sx2Dc4Fv6Gb1Hn3Jm")
STRIPE = "sk_live_" + "51HxQ2cKj8sD0aPq7ZwE3rT"
AWS_ID = "AKIA" + "2E0A8F3B244C9986"
AWS_ID_JSON = "AKIA" + "7Q3W9E8R2T4Y6U1P"
AWS_SECRET = "Zk3q9Vw7Lr2Tn0Wb5Ys8" + "Pd1Fg4Jc6MuHx8Qa2Re4"
JWT = (
    "eyJhbGciOiJIUzI1NiJ9."
    + "eyJ1c2VyIjoiYWxpY2UiLCJyb2xlIjoiYWRtaW4ifQ.k3Hq9vZx2Lr7Tn0Wb5Ys8Pd1Fg4Jc6Mu"
)
SLACK = "xoxb-" + "2837465019-1928374650918-Hx7Kq2Lm9Np4Rs6Tv8Wz1Yb"
API_KEY = "9f8a7b6c5d4e" + "3f2a1b0c"
DB_PASSWORD = "pg-Pa55w0rd" + "-9xQ"
KEY_BODY = (
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw",
    "7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFc",
)
PEM_HEADER = "-----BEGIN RSA " + "PRIVATE KEY-----"


def run_backlint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, "-m", "backlint", *every_rule(args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=ENV,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in completed.stdout + completed.stderr, completed.stderr
    return completed


def write_project(root: Path, files: Mapping[str, str]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


def check_json(root: Path, *args: str) -> list[dict[str, Any]]:
    completed = run_backlint(
        "check", ".", "--select", "BL801,BL802", "--output-format", "json", *args, cwd=root
    )
    assert completed.returncode in (0, 1), completed.stderr
    items = json.loads(completed.stdout)
    assert isinstance(items, list)
    return items


def located(items: list[dict[str, Any]]) -> list[tuple[str, str, int, int, int]]:
    """``(code, file name, row, column, end column)`` of each finding, sorted."""
    return sorted(
        (
            item["code"],
            Path(item["filename"]).name,
            item["location"]["row"],
            item["location"]["column"],
            item["end_location"]["column"],
        )
        for item in items
    )


# --- The leak test: a project full of secrets, in every output format ---------------------

LEAKY_PROJECT = {
    "app/settings.py": (
        f'STRIPE_SECRET = "{STRIPE}"\n'
        f'client_kwargs = dict(api_key="{API_KEY}")\n'
        f'DATABASES = {{"default": {{"PASSWORD": "{DB_PASSWORD}"}}}}\n'
        f'GITHUB_TOKEN = (\n    "{GITHUB_SPLIT[0]}"\n    "{GITHUB_SPLIT[1]}"\n)\n'
        f'SIGNING_KEY = """{PEM_HEADER}\n{KEY_BODY[0]}\n{KEY_BODY[1]}\n'
        '-----END RSA PRIVATE KEY-----\n"""\n'
    ),
    "tests/test_client.py": (
        f'def test_client(client):\n    client.login(token="{GITHUB}")\n'
        f'    client.get("/", headers={{"Authorization": "Bearer {JWT}"}})\n'
    ),
    "tests/cassettes/login.yaml": (
        "interactions:\n- request:\n    headers:\n"
        f"      Authorization: [Bearer {JWT}]\n"
        "  response:\n"
        f'    body: {{string: \'{{"ok": true, "token": "{SLACK}"}}\'}}\n'
    ),
    "tests/.env": f"AWS_ACCESS_KEY_ID={AWS_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n",
    "tests/data/fixture.json": json.dumps({"aws_access_key_id": AWS_ID_JSON, "token": GITHUB}),
}
SECRETS = (
    STRIPE,
    API_KEY,
    DB_PASSWORD,
    *GITHUB_SPLIT,
    GITHUB,
    JWT,
    SLACK,
    AWS_ID,
    AWS_ID_JSON,
    AWS_SECRET,
    *KEY_BODY,
)
EXPECTED = [
    ("BL801", "settings.py", 1),
    ("BL801", "settings.py", 2),
    ("BL801", "settings.py", 3),
    ("BL801", "settings.py", 5),
    ("BL802", ".env", 1),
    ("BL802", ".env", 2),
    ("BL802", "fixture.json", 1),
    ("BL802", "fixture.json", 1),
    ("BL802", "login.yaml", 4),
    ("BL802", "login.yaml", 6),
    ("BL802", "settings.py", 1),
    ("BL802", "settings.py", 5),
    ("BL802", "settings.py", 8),
    ("BL802", "test_client.py", 2),
    ("BL802", "test_client.py", 3),
]


def _fragments(secret: str) -> tuple[str, ...]:
    """The secret, its head one character longer than any output may show (four
    characters at most, a quarter of the value at most) and a piece of its middle."""
    return (secret, secret[: visible_length(len(secret)) + 1], secret[6:14])


def _without_rule_docs(stdout: str, output: str) -> str:
    """SARIF embeds every rule's documentation, whose examples spell token prefixes
    (``sk_live_``): static text, not output derived from the scanned files."""
    if output != "sarif":
        return stdout
    log = json.loads(stdout)
    for run in log["runs"]:
        run["tool"]["driver"].pop("rules", None)
    return json.dumps(log, ensure_ascii=False)


@pytest.fixture(scope="module")
def leaky(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("leaky"), LEAKY_PROJECT)


def test_leaky_project_findings(leaky: Path) -> None:
    found = [(code, name, row) for code, name, row, _, _ in located(check_json(leaky))]
    assert found == EXPECTED


@pytest.mark.parametrize("output", [*FORMATS, "statistics"])
def test_no_output_format_shows_a_secret(leaky: Path, output: str) -> None:
    style = ["--statistics"] if output == "statistics" else ["--output-format", output]
    completed = run_backlint("check", ".", "--select", "BL801,BL802", *style, cwd=leaky)
    assert completed.returncode == 1, completed.stderr
    text = _without_rule_docs(completed.stdout, output) + completed.stderr
    # The findings are there ...
    if output == "statistics":
        assert "BL801" in text and "BL802" in text
    else:
        assert text.count("BL801") >= 4 and text.count("BL802") >= 11
    # ... and no secret, nor more than four characters of one.
    for secret in SECRETS:
        for fragment in _fragments(secret):
            assert fragment not in text, f"{output} shows {fragment!r}"


def test_full_output_masks_the_literal(leaky: Path) -> None:
    completed = run_backlint("check", ".", "--select", "BL801,BL802", cwd=leaky)
    # A short head and a mask of fixed length: the line does not tell the value's length.
    assert '1 | STRIPE_SECRET = "sk_l***"\n' in completed.stdout
    assert "1 | AWS_ACCESS_KEY_ID=AKIA***\n" in completed.stdout
    # A 15-character password shows three characters (a quarter), not four.
    assert '3 | DATABASES = {"default": {"PASSWORD": "pg-***"}}\n' in completed.stdout
    # The carets stay under the masked literal.
    carets = "  |" + " " * 38 + "^" * 8 + "\n"
    assert '3 | DATABASES = {"default": {"PASSWORD": "pg-***"}}\n' + carets in completed.stdout


def test_masking_keeps_little_and_hides_the_length() -> None:
    assert shown("hunter2hunter2") == "hun***"
    assert shown("Pa55word") == "Pa***"
    assert shown("abc") == "***"
    assert shown("4c1f9e7b2a5d8c3e6f0a1b4c7d9e2f5a") == "4c1f***"
    short, _ = mask_line('PASSWORD = "Pa55word"  # noqa', [(11, 21, True)])
    long, _ = mask_line('PASSWORD = "Pa55wordPa55wordPa55word"', [(11, 37, True)])
    assert short == 'PASSWORD = "Pa***"  # noqa'
    assert long == 'PASSWORD = "Pa55***"'


def test_masking_a_continuation_line_shows_nothing_of_it() -> None:
    masked, masks = mask_line('    "Ww9Qq1Zz4Yy7Tt0Uu3Vv"', [(0, 26, False)])
    assert masked == '    "***"'
    assert masks == (Masked(0, 26, 9),)


def test_columns_after_a_mask_move_with_it() -> None:
    line = 'a = "Pa55wordPa55word"; b = f(x)'
    masked, masks = mask_line(line, [(4, 22, True)])
    assert masked == 'a = "Pa55***"; b = f(x)'
    call = line.index("f(x)")
    assert masked[shifted_column(call, masks)] == "f"
    assert shifted_column(2, masks) == 2  # before the mask: unchanged
    assert shifted_column(22, masks) == len('a = "Pa55***"')  # the end of the literal


def test_two_secrets_on_one_line_are_both_masked() -> None:
    line = 'A_TOKEN = "0a9b8c7d6e5f4a3b"; B_TOKEN = "1b2c3d4e5f6a7b8c9d"'
    first = line.index('"0a9b')
    second = line.index('"1b2c')
    masked, masks = mask_line(line, [(second, len(line), True), (first, first + 18, True)])
    assert masked == 'A_TOKEN = "0a9b***"; B_TOKEN = "1b2c***"'
    assert [m.start for m in masks] == [first, second]


# --- Text fixtures -------------------------------------------------------------------------


def test_fixture_positions_are_code_point_columns(tmp_path: Path) -> None:
    # "é" is two bytes in UTF-8 but one code point: the column counts code points.
    write_project(
        tmp_path,
        {"tests/fixtures/users.json": f'{{\n  "né": "{AWS_ID}"\n}}\n'},
    )
    items = check_json(tmp_path)
    assert located(items) == [("BL802", "users.json", 2, 10, 30)]
    assert items[0]["message"] == "AWS access key ID (`AKIA***`) in a test fixture"


def test_fixture_noqa_and_fake_values(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "tests/cassettes/a.yaml": (
                f"token: {GITHUB}  # noqa: BL802\n"
                "aws_access_key_id: AKIAIOSFODNN7EXAMPLE\n"
                "token2: ghp_" + "FAKE" + "x" * 32 + "\n"
                f"body: '{PEM_HEADER}\\n...\\n-----END RSA PRIVATE KEY-----'\n"
            )
        },
    )
    assert check_json(tmp_path) == []


def test_fixture_key_block_spanning_lines(tmp_path: Path) -> None:
    pem = f"{PEM_HEADER}\n    {KEY_BODY[0]}\n    {KEY_BODY[1]}\n    -----END RSA PRIVATE KEY-----"
    write_project(
        tmp_path,
        {
            "tests/data/keys.yml": f"signing_key: |\n    {pem}\n",
            "pyproject.toml": (
                "[tool.backlint.options.secret-literal]\ninclude-test-private-keys = true\n"
            ),
        },
    )
    items = check_json(tmp_path)
    assert located(items) == [("BL802", "keys.yml", 2, 5, 5 + len(PEM_HEADER))]
    assert items[0]["message"] == "RSA private key block in a test fixture"


def test_private_keys_in_tests_only_on_request(tmp_path: Path) -> None:
    pem = f"{PEM_HEADER}\\n{KEY_BODY[0]}\\n{KEY_BODY[1]}\\n-----END RSA PRIVATE KEY-----"
    write_project(
        tmp_path,
        {
            "tests/conftest.py": f'SIGNING_KEY = "{pem}"\nTOKEN = "{GITHUB}"\n',
            "tests/data/keys.json": json.dumps({"key": pem.replace("\\n", "\n")}),
            "app/keys.py": f'SIGNING_KEY = "{pem}"\n',
        },
    )
    # Test keys sign test tokens; the GitHub token and the key in app code are reported.
    found = [(code, name, row) for code, name, row, _, _ in located(check_json(tmp_path))]
    assert found == [("BL802", "conftest.py", 2), ("BL802", "keys.py", 1)]


def test_files_outside_test_directories_are_not_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"config/app.json": json.dumps({"token": GITHUB})})
    assert check_json(tmp_path) == []


def test_test_code_gets_only_bl802(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "tests/test_api.py": (
                f'API_SECRET = "{API_KEY}"\n'  # a secret name, no known format: not BL801 in tests
                f'STRIPE_SECRET = "{STRIPE}"\n'
            )
        },
    )
    assert [(code, row) for code, _, row, _, _ in located(check_json(tmp_path))] == [("BL802", 2)]


# --- Options -------------------------------------------------------------------------------


def test_options(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "pyproject.toml": (
                "[tool.backlint.options.hardcoded-secret-assignment]\n"
                'secret-words = ["signing_salt"]\n'
                'name-exceptions = ["kind"]\n'
                "[tool.backlint.options.secret-literal]\n"
                'fake-markers = ["R2d2"]\n'
            ),
            "app/config.py": (
                f'SIGNING_SALT = "{API_KEY}"\n'
                f'signing_salt_kind = "{API_KEY}"\n'
                f'PASSWORD = "{DB_PASSWORD}"\n'
                f'TOKEN_X = "{GITHUB}"\n'
            ),
        },
    )
    assert [(code, row) for code, _, row, _, _ in located(check_json(tmp_path))] == [("BL801", 1)]


# --- The detection module --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"x {AWS_ID} y", "AWS access key ID"),
        (f"Authorization: Bearer {JWT}", "JSON Web Token"),
        (f'"{GITHUB}"', "GitHub personal access token"),
        (SLACK, "Slack token"),
        (STRIPE, "Stripe live secret key"),
        ("rk_live_" + "51HxQ2cKj8sD0aPq7ZwE3rT", "Stripe live restricted key"),
        ("AIza" + "SyD4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T", "Google API key"),
        (
            "SG." + "Hx7Kq2Lm9Np4Rs6Tv8Wz1Y." + "Q3w5E7r9T1y3U5i7O9p1A3s5D7f9G1h3J5k7L9z1X3c",
            "SendGrid API key",
        ),
        ("glpat-" + "Hx7Kq2Lm9Np4Rs6Tv8Wz", "GitLab personal access token"),
        (f"aws_secret_access_key = {AWS_SECRET}", "AWS secret access key"),
        (f"{PEM_HEADER}\\n{KEY_BODY[0]}\\n{KEY_BODY[1]}", "RSA private key block"),
    ],
)
def test_token_formats(text: str, kind: str) -> None:
    tokens = find_tokens(text)
    assert [token.kind for token in tokens] == [kind]
    assert text[tokens[0].start : tokens[0].end] == tokens[0].value


@pytest.mark.parametrize(
    "text",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "x" + AWS_ID,  # inside a longer word
        "ghp_" + "a" * 36,  # filler
        "AKIA" + "1234567890ABCDEF",  # a typed run
        "sk_test_" + "51HxQ2cKj8sD0aPq7ZwE3rT",
        PEM_HEADER,  # a header without a key
        JWT.rsplit(".", 1)[0] + ".",  # unsigned
        "xoxb-valid",
    ],
)
def test_not_tokens(text: str) -> None:
    assert find_tokens(text) == []


def test_fake_markers_are_case_insensitive() -> None:
    assert is_fake("ghp_DUMMY" + "7Tt0Uu3Vv" * 4)
    assert not is_fake(GITHUB)


def test_identifier_words() -> None:
    words = (("api", "key"), ("token",), ("password",))
    assert split_identifier("userAPIKey_2") == ("user", "api", "key")
    assert secret_phrase(split_identifier("STRIPE_API_KEY"), words) == ("api", "key")
    assert secret_phrase(split_identifier("apiKeys"), words) == ("api", "key")
    assert secret_phrase(split_identifier("tokenizer"), words) is None
    assert secret_phrase(split_identifier("api_version_key"), words) is None


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("bearer", True),
        ("NextToken", True),
        ("DB_PASSWORD", True),
        ("/auth/token/refresh", True),
        ("{{ password }}", True),
        ("12345678", True),
        ("abcdefgh", True),
        ("550e8400-e29b-41d4-a716-446655440000", True),
        ("Please enter your password", True),
        ("invalid_password", True),
        ("password_reset.html", True),
        ("X-Api-Key", True),
        ("********", True),
        (API_KEY, False),
        (DB_PASSWORD, False),
        ("MyPassword", False),
    ],
)
def test_value_filters(value: str, label: bool) -> None:
    assert is_label(value, "SERVICE_PASSWORD") is label


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        ("secret key", True),
        ("super secret jwt secret", True),
        ("change me", True),
        ("my-app dev password", True),
        ("Invalid or expired token.", False),  # a sentence: a message
        ("Please enter your password", False),
        ("use at least twelve characters", False),  # no word says what it stands in for
        ("secret", False),  # one word: judged as a value
        ("{secret} key", False),  # a template
        ("a secret", False),  # a description, as in a message
        ("private key block", False),  # ends with another noun: a label
        ("change this secret", True),
    ],
)
def test_placeholder_phrases(value: str, placeholder: bool) -> None:
    assert is_placeholder_phrase(value) is placeholder


@pytest.mark.parametrize(
    ("value", "local"),
    [
        ("http://localhost:8080/default", True),
        ("redis://user:pw@127.0.0.1:6379/0", True),
        ("0.0.0.0:9000", True),
        ("http://host.docker.internal", True),
        ("https://localhost.example.com", False),
        ("https://auth.example.com/realms/localhost", False),
    ],
)
def test_local_urls(value: str, local: bool) -> None:
    assert is_local_url(value) is local


@pytest.mark.parametrize(
    ("relative", "throwaway"),
    [
        ("server/scripts/seeds_load.py", True),
        ("app/settings/testing.py", True),
        ("app/mocks/oidc.py", True),
        ("app/demo/config.py", True),
        ("app/core/config.py", False),
        ("app/services/example.py", False),  # a module named example is code
        ("app/sample/service.py", False),
    ],
)
def test_throwaway_modules(relative: str, throwaway: bool) -> None:
    assert is_throwaway_module(relative) is throwaway


def test_an_enum_base_in_another_module_is_found_by_the_project_pass(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "app/kinds.py": "import enum\nclass Base(str, enum.Enum):\n    pass\n",
            "app/models.py": (
                "from app.kinds import Base\n"
                "class Provider(Base):\n    CLIENT_SECRET = 'oauth2-client-secret-v1'\n"
                "class Settings:\n    CLIENT_SECRET = 'oauth2-client-secret-v1'\n"
            ),
        },
    )
    assert [(code, row) for code, _, row, _, _ in located(check_json(tmp_path))] == [("BL801", 5)]


def test_diff_of_fixes_masks_secret_lines(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "app/services/orders.py": (
                f'API_TOKEN = "{API_KEY}"\n\n\ndef notify(order_id: int):\n    print(order_id)\n'
            )
        },
    )
    completed = run_backlint("check", ".", "--diff", cwd=tmp_path)
    assert "+def notify(order_id: int) -> None:" in completed.stdout
    # The secret's line is context of the hunk, shown masked on both sides.
    assert f' API_TOKEN = "{API_KEY[:4]}***"\n' in completed.stdout
    for fragment in _fragments(API_KEY):
        assert fragment not in completed.stdout

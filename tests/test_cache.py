"""The persistent cache and the workspace: every entry point sees the whole project, and
what the cache holds never changes a result, whatever state it is in."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import ENV, backlint, write_files

from backlint.application import CheckRequest, open_workspace
from backlint.cache import store
from backlint.diagnostics import Diagnostic
from backlint.workspace import StdinSource

REPOSITORY = Path(__file__).resolve().parent.parent
FIXTURES = sorted(path for path in (REPOSITORY / "fixtures").iterdir() if path.is_dir())

SECRET = "sk_live_" + "51HxQ2cKj8sD0aPq7Z"

PROJECT = {
    "pyproject.toml": "[tool.backlint]\npreview = true\n",
    "app/__init__.py": "",
    "app/a.py": "from app import b\n\ndef f():\n    try:\n        pass\n    except:\n        pass\n",  # noqa: E501
    "app/b.py": "from app import a\n",
    "app/settings.py": f'STRIPE_SECRET = "{SECRET}"\n',
}


def _key(diagnostic: Diagnostic) -> tuple[object, ...]:
    return (diagnostic.path, diagnostic.span, diagnostic.code, diagnostic.message)


def _request(root: Path, *paths: Path, **changes: object) -> CheckRequest:
    values: dict[str, object] = {"paths": paths or (root,), "cwd": root, "preview": True}
    values.update(changes)
    return CheckRequest(**values)  # type: ignore[arg-type]


# --- every file checked alone finds what the whole run finds -----------------------------


@pytest.mark.parametrize("project", FIXTURES, ids=lambda path: path.name)
def test_each_file_checked_alone_or_from_stdin_equals_the_full_run(project: Path) -> None:
    full = open_workspace(_request(project)).check([project])
    expected: dict[str, list[tuple[object, ...]]] = {}
    for diagnostic in full.diagnostics:
        expected.setdefault(diagnostic.path, []).append(_key(diagnostic))
    workspace = open_workspace(_request(project))
    files = workspace.project_files()
    assert len(files) >= 10
    for path in files:
        relative = workspace.relative(path)
        # A fresh workspace each time: nothing learned from the full run is reused.
        alone = open_workspace(_request(project, path)).check([path])
        assert sorted(map(_key, alone.diagnostics)) == sorted(expected.get(relative, [])), relative
        stdin = StdinSource(path, relative, path.read_bytes())
        edited = workspace.check(stdin=stdin)
        assert sorted(map(_key, edited.diagnostics)) == sorted(expected.get(relative, [])), relative


def test_a_cycle_closed_in_another_file_is_reported_for_a_named_file(tmp_path: Path) -> None:
    write_files(tmp_path, PROJECT)
    # The cycle is reported once, at app/a.py's import; checking app/a.py alone reads
    # app/b.py from the project to see it.
    completed = backlint(tmp_path, "check", "--select", "BL411", "app/a.py")
    assert completed.returncode == 1, completed.stderr
    assert "app/a.py:1:1: BL411 Import cycle: app.a -> app.b -> app.a" in completed.stdout
    assert backlint(tmp_path, "check", "--select", "BL411", "app/b.py").returncode == 0


def test_stdin_is_checked_against_the_rest_of_the_project(tmp_path: Path) -> None:
    write_files(tmp_path, PROJECT)
    # A buffer without the import breaks the cycle; with it, app/b.py on disk closes it.
    args = ("check", "--select", "BL411", "--stdin-filename", "app/a.py", "-")
    assert backlint(tmp_path, *args, stdin="\n").returncode == 0
    assert "BL411" in backlint(tmp_path, *args, stdin="from app import b\n").stdout


# --- the cache on disk ---------------------------------------------------------------------


def _json(root: Path, *args: str) -> list[dict[str, object]]:
    completed = backlint(root, "check", "--output-format", "json", "--exit-zero", *args)
    assert completed.returncode == 0, completed.stderr
    findings: list[dict[str, object]] = json.loads(completed.stdout)
    return findings


def test_a_warm_run_reports_what_the_cold_run_reported(tmp_path: Path) -> None:
    write_files(tmp_path, PROJECT)
    cold = _json(tmp_path)
    cache = tmp_path / ".backlint_cache"
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache / "CACHEDIR.TAG").is_file()
    entries = list(cache.glob("*/files/*/*"))
    assert len(entries) == 5
    assert _json(tmp_path) == cold
    # A changed file is checked again: its findings follow the new text.
    (tmp_path / "app/b.py").write_text("\n")
    warm = _json(tmp_path)
    assert {f["code"] for f in cold} - {f["code"] for f in warm} == {"BL411"}


def test_no_cache_reads_and_writes_nothing(tmp_path: Path) -> None:
    write_files(tmp_path, PROJECT)
    findings = _json(tmp_path, "--no-cache")
    assert findings
    assert not (tmp_path / ".backlint_cache").exists()


def test_cache_dir_from_the_flag_the_environment_and_the_configuration(tmp_path: Path) -> None:
    project = write_files(tmp_path / "project", PROJECT)
    _json(project, "--cache-dir", str(tmp_path / "flag"))
    assert (tmp_path / "flag" / "CACHEDIR.TAG").is_file()
    environment = {**ENV, "BACKLINT_CACHE_DIR": str(tmp_path / "variable")}
    subprocess.run(
        [sys.executable, "-m", "backlint", "check", "--exit-zero", "-q"],
        cwd=project,
        env=environment,
        capture_output=True,
        check=True,
    )
    assert (tmp_path / "variable" / "CACHEDIR.TAG").is_file()
    (project / "pyproject.toml").write_text('[tool.backlint]\npreview = true\ncache-dir = "c"\n')
    _json(project)
    assert (project / "c" / "CACHEDIR.TAG").is_file()
    assert not (project / ".backlint_cache").exists()


def test_clean_removes_the_cache_and_only_a_cache(tmp_path: Path) -> None:
    write_files(tmp_path, PROJECT)
    _json(tmp_path)
    _json(tmp_path, "--cache-dir", "elsewhere")
    removed = backlint(tmp_path, "clean")
    assert removed.returncode == 0 and "Removed" in removed.stderr
    assert not (tmp_path / ".backlint_cache").exists()
    assert backlint(tmp_path, "clean").stderr == "No cache to remove.\n"
    assert backlint(tmp_path, "clean", "--cache-dir", "elsewhere").returncode == 0
    assert not (tmp_path / "elsewhere").exists()
    (tmp_path / "precious").mkdir()
    refused = backlint(tmp_path, "clean", "--cache-dir", "precious")
    assert refused.returncode == 2 and "does not look like a backlint cache" in refused.stderr
    assert (tmp_path / "precious").is_dir()


def test_no_detected_secret_is_stored_in_clear(tmp_path: Path) -> None:
    write_files(tmp_path, PROJECT)
    findings = _json(tmp_path, "--select", "BL801")
    assert [f["code"] for f in findings] == ["BL801"]
    for entry in (tmp_path / ".backlint_cache").rglob("*"):
        if entry.is_file():
            assert SECRET.encode() not in entry.read_bytes(), entry


def test_an_unwritable_cache_warns_once_and_the_run_goes_on(tmp_path: Path) -> None:
    write_files(tmp_path, PROJECT)
    # A file where the directory should be: unwritable even for root, which the tests
    # may run as.
    (tmp_path / "blocked").write_text("not a directory")
    expected = _json(tmp_path, "--no-cache")
    completed = backlint(tmp_path, "check", "--output-format", "json", "--cache-dir", "blocked")
    assert completed.returncode == 1
    assert json.loads(completed.stdout) == expected
    assert completed.stderr.count("cannot write the cache") == 1


# --- whatever state the cache is in, the results are the same -------------------------


def _in_process(root: Path, cache: Path) -> list[tuple[object, ...]]:
    request = _request(root, use_cache=True, cache_dir=cache)
    result = open_workspace(request).check([root])
    assert not result.internal_errors
    return sorted(map(_key, result.diagnostics))


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: b"garbage" * 10,
        lambda data: b"",
        lambda data: data[:-1] + bytes([data[-1] ^ 1]),  # one bit flipped
        lambda data: store.MAGIC + b"\0" * 40 + pickle.dumps({"a": 1}),  # foreign content
    ],
    ids=["truncated", "garbage", "empty", "bit-flip", "foreign"],
)
def test_damaged_entries_are_misses(tmp_path: Path, damage: object) -> None:
    assert callable(damage)
    project = write_files(tmp_path / "project", PROJECT)
    cache = tmp_path / "cache"
    expected = _in_process(project, cache)
    entries = [entry for entry in cache.rglob("*") if entry.is_file() and entry.parent != cache]
    assert entries
    for entry in entries:
        entry.write_bytes(damage(entry.read_bytes()))
    assert _in_process(project, cache) == expected
    # The damaged entries were replaced by good ones.
    assert _in_process(project, cache) == expected


def test_an_entry_cannot_make_the_unpickler_call_anything(tmp_path: Path) -> None:
    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    assert store.decode(store.encode(Exploit())) is None
    assert store.decode(store.encode(os.path.join)) is None
    assert not (tmp_path / "pwned").exists()
    assert store.decode(store.encode(frozenset({1, "a"}))) == (frozenset({1, "a"}),)


def test_entries_of_other_versions_are_pruned(tmp_path: Path) -> None:
    project = write_files(tmp_path / "project", PROJECT)
    cache = tmp_path / "cache"
    _in_process(project, cache)
    old = cache / ("0" * 24)
    (old / "files").mkdir(parents=True)
    mine = cache / "notes"
    mine.mkdir()
    _in_process(project, cache)
    assert not old.exists()
    assert mine.is_dir()


def test_concurrent_runs_share_one_cache(tmp_path: Path) -> None:
    project = write_files(tmp_path / "project", PROJECT)
    for index in range(30):
        (project / "app" / f"m{index}.py").write_text(f"from app import m{(index + 1) % 30}\n")
    command = [
        sys.executable,
        "-m",
        "backlint",
        "check",
        "--preview",
        "--output-format",
        "json",
        "--exit-zero",
        "--jobs",
        "1",
    ]
    runs = [
        subprocess.Popen(command, cwd=project, env=ENV, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert outputs[0] == outputs[1] == outputs[2]
    warm = subprocess.run(command, cwd=project, env=ENV, capture_output=True, text=True, check=True)
    assert warm.stdout == outputs[0]
    assert not list((project / ".backlint_cache").rglob(".tmp-*"))


def test_the_fix_loop_sees_the_whole_project(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {**PROJECT, "app/c.py": "def g():\n    try:\n        pass\n    except:\n        pass\n"},
    )
    completed = backlint(
        tmp_path, "check", "--select", "BL201,BL411", "--fix", "--unsafe-fixes", "app/a.py"
    )
    assert "BL411" in completed.stdout
    assert "except:" in (tmp_path / "app/c.py").read_text()  # not named: not fixed


def test_a_buffer_mid_edit_keeps_its_place_in_the_import_graph(tmp_path: Path) -> None:
    write_files(tmp_path, PROJECT)
    path = tmp_path / "app" / "a.py"
    broken = StdinSource(path, "app/a.py", b"from app import b\n\ndef f(:\n")
    request = _request(tmp_path, select=("BL001", "BL411"))
    # Never seen parsing: the file has no facts, so no cycle through it.
    fresh = open_workspace(request).check(stdin=broken)
    assert [d.code for d in fresh.diagnostics] == ["BL001"]
    # An editor's workspace saw it parse: the syntax error does not break the cycle.
    workspace = open_workspace(request)
    assert [d.code for d in workspace.check([tmp_path]).diagnostics] == ["BL411"]
    typing = workspace.check(stdin=broken)
    assert sorted(d.code for d in typing.diagnostics) == ["BL001", "BL411"]
    # The file on disk is what a check of the disk sees.
    assert [d.code for d in workspace.check([tmp_path]).diagnostics] == ["BL411"]


def test_a_buffer_without_a_file_is_checked_with_its_project(tmp_path: Path) -> None:
    """An editor's new module, never saved: named with its overlay, it is reported and
    takes part in the import graph; named without one it is a missing file."""
    write_files(
        tmp_path, {"pyproject.toml": "", "app/__init__.py": "", "app/b.py": PROJECT["app/b.py"]}
    )
    path = tmp_path / "app" / "a.py"
    workspace = open_workspace(_request(tmp_path, select=("BL411",)))
    unsaved = workspace.check([path], overlays={path: PROJECT["app/a.py"].encode()})
    assert [(d.path, d.code) for d in unsaved.diagnostics] == [("app/a.py", "BL411")]
    assert unsaved.sources == {"app/a.py": path}
    missing = workspace.check([path])
    assert missing.diagnostics == []
    assert [p.message for p in missing.problems] == ["no such file or directory"]

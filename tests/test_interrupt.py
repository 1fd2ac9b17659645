"""Ctrl-C during ``backlint check``: exit status 130, one line on stderr, no traceback, no
report, and no worker process left behind.

The check runs in a session of its own with stderr on a pseudo-terminal, so it prints its
progress line as it would for a person; the test waits for that line (the file pass is
then under way in its workers), interrupts, and waits for every process of the session to
end. Nothing sleeps: each wait is on a file descriptor, with a timeout only as a bound.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import ENV

from backlint.cache import store

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(os, "pidfd_open"),
    reason="needs /proc, pidfd_open and pseudo-terminals",
)

# Enough work that the run is far from done when the first chunk of files reports, even
# when a loaded machine keeps the test from sending the signal for several seconds.
_FILES = 1000
_FUNCTIONS = 30
_BOUND = 120.0  # seconds any single wait may take before the test gives up


def _project(root: Path) -> Path:
    body = "".join(
        f"def handler_{n}(value: int) -> int:\n"
        f"    try:\n        return value + {n}\n"
        f"    except Exception:\n        log.exception('failed')\n        return 0\n\n\n"
        for n in range(_FUNCTIONS)
    )
    package = root / "app" / "services"
    package.mkdir(parents=True)
    for index in range(_FILES):
        text = f"import logging\n\nlog = logging.getLogger(__name__)\n\n\n{body}"
        (package / f"module_{index}.py").write_text(text, encoding="utf-8")
    return root


def _session_processes(session: int) -> dict[int, str]:
    """The processes of process group ``session`` (the check and its workers) by id, with
    their state letter (``Z``: exited, not yet reaped)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text(encoding="utf-8")
        except OSError:
            continue  # ended meanwhile
        state, _parent, group = stat.rsplit(")", 1)[1].split()[:3]
        if int(group) == session:
            found[int(entry)] = state
    return found


def _read_until(fd: int, marker: bytes) -> bytes:
    seen = b""
    while marker not in seen:
        ready, _, _ = select.select([fd], [], [], _BOUND)
        assert ready, f"no {marker!r} on stderr: {seen!r}"
        chunk = os.read(fd, 4096)
        assert chunk, f"stderr closed before {marker!r}: {seen!r}"
        seen += chunk
    return seen


def _read_rest(fd: int) -> bytes:
    """What the terminal still holds once the process has ended."""
    rest = b""
    while select.select([fd], [], [], 0)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not chunk:
            break
        rest += chunk
    return rest


def _wait_ended(pid: int) -> bool:
    """Wait (bounded) until process ``pid`` has ended; whether it has."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([handle], [], [], _BOUND)
        return bool(ready)
    finally:
        os.close(handle)


@pytest.mark.parametrize("whom", ["terminal", "parent"])
def test_ctrl_c_exits_130_and_leaves_no_worker(tmp_path: Path, whom: str) -> None:
    """``terminal``: Ctrl-C signals the whole foreground process group, workers too.
    ``parent``: ``kill -INT`` reaches the main process only, which must stop the workers."""
    project = _project(tmp_path / "project")
    terminal, terminal_side = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "backlint", "check", "--jobs", "2", "."],
        cwd=project,
        env=ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal_side,
        start_new_session=True,
    )
    os.close(terminal_side)
    try:
        shown = _read_until(terminal, b"backlint: checked ")
        workers = set(_session_processes(process.pid)) - {process.pid}
        assert workers, "the file pass runs in worker processes"
        if whom == "terminal":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGINT)
        report, _ = process.communicate(timeout=_BOUND)
        shown += _read_rest(terminal)
    finally:
        if process.poll() is None:  # pragma: no cover - only when the test fails
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(terminal)

    assert process.returncode == 130
    assert report == b""
    text = shown.decode("utf-8", "replace")
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    progress = re.compile(r"backlint: checked \d+/\d+ files|\x1b\[K")
    messages = [line.strip() for line in progress.sub("", text).replace("\r", "\n").splitlines()]
    assert [m for m in messages if m] == ["backlint: interrupted"], text
    for pid in workers:
        assert _wait_ended(pid), f"worker {pid} outlived the interrupted check"
    left = {pid: state for pid, state in _session_processes(process.pid).items() if state != "Z"}
    assert left == {}
    # Entries written before the interruption are whole; none is half written.
    cache = project / ".backlint_cache"
    entries = [path for path in cache.rglob("*") if path.is_file() and path.parent != cache]
    assert not [path for path in entries if path.name.startswith(".tmp-")]
    assert all(store.decode(path.read_bytes()) is not None for path in entries)


def _signal_set(pid: int, field: str) -> int:
    """A signal mask of ``/proc/PID/status`` (``SigIgn``, ``SigBlk``) as a number."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1], 16)
    raise AssertionError(f"no {field} for {pid}")  # pragma: no cover


def test_the_file_pass_stops_its_workers_when_interrupted(tmp_path: Path) -> None:
    """A Ctrl-C in the parent while chunks are still out: the workers, which ignore SIGINT
    themselves (or hold it back until they do), are killed instead of finishing their
    chunks, and the interruption goes on to the caller."""
    import multiprocessing

    from backlint.config import Settings
    from backlint.engine.results import FileTask
    from backlint.engine.runner import run_file_pass
    from backlint.rules.catalogue import catalogue
    from backlint.rules.registry import rule_classes

    project = _project(tmp_path)
    tasks = [
        FileTask(path, path.name, path.relative_to(project).as_posix())
        for path in sorted((project / "app" / "services").glob("*.py"))
    ]
    workers: list[multiprocessing.process.BaseProcess] = []
    interrupt = 1 << (signal.SIGINT - 1)

    def interrupt_after_the_first_chunk(done: int, total: int) -> None:
        workers.extend(multiprocessing.active_children())
        for worker in workers:
            assert worker.pid is not None
            shielded = _signal_set(worker.pid, "SigIgn") | _signal_set(worker.pid, "SigBlk")
            assert shielded & interrupt, f"worker {worker.pid} would die of Ctrl-C itself"
        raise KeyboardInterrupt

    rules = tuple(rule_classes([catalogue()["BL201"], catalogue()["BL202"]]).values())
    with pytest.raises(KeyboardInterrupt):
        run_file_pass(tasks, Settings(root=project), rules, 2, interrupt_after_the_first_chunk)
    assert workers
    assert all(worker.exitcode == -signal.SIGKILL for worker in workers), [
        worker.exitcode for worker in workers
    ]

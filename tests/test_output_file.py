"""``--output-file`` and baselines: reports replace regular files in one step, and are
written into anything else (a device, a pipe) without replacing it."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from cli_helpers import write_files
from click.testing import CliRunner

from backlint.cli import main
from backlint.source import write_output


def test_a_regular_file_is_replaced_and_no_temporary_is_left(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.txt"
    write_output(target, "first\n")
    write_output(target, "second\n")
    assert target.read_text() == "second\n"
    assert sorted(path.name for path in target.parent.iterdir()) == ["report.txt"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_written_into_not_replaced(tmp_path: Path) -> None:
    write_files(tmp_path, {"app/a.py": "try:\n    pass\nexcept:\n    pass\n"})
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    result = CliRunner().invoke(
        main,
        [
            "check",
            "--select",
            "BL201",
            "--output-format",
            "concise",
            "-o",
            str(pipe),
            str(tmp_path),
        ],
    )
    reader.join(timeout=60)
    assert result.exit_code == 1, result.output
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert b"BL201" in received[0]

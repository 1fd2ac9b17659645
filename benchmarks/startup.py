"""How long backlint takes to start: ``--version``, ``rule BL201``, ``rule --all``,
``import backlint.cli`` and a check of a one-file project, each in a fresh interpreter.

    python benchmarks/startup.py [--runs 15] [--src OTHER/src ...]

Prints, per command, the wall-clock and CPU time (user + system of the child) as
minimum and median over the runs: on a shared machine the minimum and the CPU time are the
stable numbers. ``--src`` measures another checkout's sources too (``git archive REV src |
tar -x -C /tmp/before``), with the same interpreter, for a before/after comparison.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"

COMMANDS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "import backlint.cli": ["-c", "import backlint.cli"],
    "backlint --version": ["-m", "backlint", "--version"],
    "backlint rule BL201": ["-m", "backlint", "rule", "BL201"],
    "backlint rule --all": ["-m", "backlint", "rule", "--all"],
    "backlint rule --all (json)": ["-m", "backlint", "rule", "--all", "--output-format", "json"],
    "backlint check (1 file)": ["-m", "backlint", "check", "--exit-zero", "."],
}


def _measure(args: list[str], src: Path, cwd: Path, runs: int) -> tuple[list[float], list[float]]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def _ms(values: list[float]) -> str:
    return f"{min(values) * 1000:6.0f} {statistics.median(values) * 1000:6.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--src", type=Path, action="append", default=[])
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        project = Path(directory)
        (project / "app.py").write_text("def handler() -> int:\n    return 1\n", encoding="utf-8")
        print(f"{'':34} {'wall ms (min, median)':>22} {'cpu ms (min, median)':>22}")
        for src in (HERE, *options.src):
            print(f"sources: {src}")
            for label, args in COMMANDS.items():
                walls, cpus = _measure(args, src, project, options.runs)
                print(f"  {label:32} {_ms(walls):>22} {_ms(cpus):>22}")


if __name__ == "__main__":
    main()

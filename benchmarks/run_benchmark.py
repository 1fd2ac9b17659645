#!/usr/bin/env python3
"""Benchmark ``backlint check`` on a directory against a bare ``libcst`` parse floor.

For each ``--jobs`` value the script runs, as a subprocess::

    backlint check --output-format json --exit-zero --quiet --jobs N [EXTRA ARGS] DIR

and measures its wall time and peak RSS. It then parses every file of the directory with
``libcst.parse_module`` in this process, one file after another (read + decode + parse), which
is the floor backlint is measured against: no linter built on libcst can check a file faster
than it can parse it on one core.

Usage::

    python benchmarks/run_benchmark.py /path/to/project --jobs 1,2 --repeat 3
    python benchmarks/run_benchmark.py . --jobs 1 --jobs 4 --backlint-args "--select BL4" --json

Only the standard library and libcst are needed. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import tokenize
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import libcst

# ru_maxrss is in KiB on Linux and the BSDs, in bytes on macOS.
_MAXRSS_TO_MIB = 1 / (1024 * 1024) if sys.platform == "darwin" else 1 / 1024


@dataclass
class Timings:
    """Wall and CPU seconds of repeated runs; the best repeat is the one reported."""

    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)

    @property
    def wall(self) -> float:
        """The best of the repeats: the run least disturbed by the rest of the machine."""
        return min(self.walls)

    @property
    def cpu(self) -> float:
        return min(self.cpus)


@dataclass
class BacklintRun(Timings):
    jobs: int = 0
    peak_rss_mib: float = 0.0
    findings: int = 0
    exit_codes: list[int] = field(default_factory=list)
    stderr: str = ""


@dataclass
class Floor(Timings):
    parse_errors: int = 0
    decode_errors: int = 0


@dataclass
class Corpus:
    files: list[Path]
    lines: int
    bytes: int


def find_files(top: Path) -> Iterator[Path]:
    """The files backlint itself would check under ``top`` (its own discovery, excludes and
    ``.gitignore`` included), so that the floor parses exactly the same files."""
    from backlint.config import Settings
    from backlint.discovery import discover

    root = top.resolve() if top.is_dir() else top.resolve().parent
    yield from discover([top], Settings(root=root)).files


def load_corpus(top: Path) -> Corpus:
    """List the files and count their lines; reading them also warms the page cache."""
    files: list[Path] = []
    lines = 0
    size = 0
    for path in find_files(top):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        files.append(path)
        size += len(data)
        lines += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return Corpus(files, lines, size)


def decode(data: bytes) -> str:
    """Decode as Python does (PEP 263: BOM or coding cookie, else UTF-8), as backlint does."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text


def parse_floor(files: Sequence[Path]) -> tuple[float, float, int, int]:
    """Read, decode and parse every file in this process.

    Returns (wall seconds, CPU seconds, parse errors, decode errors).
    """
    parse_errors = 0
    decode_errors = 0
    start = time.perf_counter()
    start_cpu = time.process_time()
    for path in files:
        data = path.read_bytes()
        try:
            text = decode(data)
        except (SyntaxError, LookupError, UnicodeDecodeError):
            decode_errors += 1
            continue
        try:
            libcst.parse_module(text)
        except libcst.ParserSyntaxError:
            parse_errors += 1
    wall = time.perf_counter() - start
    return wall, time.process_time() - start_cpu, parse_errors, decode_errors


def run_backlint(
    command: Sequence[str], directory: Path, jobs: int, extra: Sequence[str]
) -> tuple[float, float, float, int, int, str]:
    """Run backlint once.

    Returns (wall seconds, CPU seconds, peak RSS MiB, findings, exit code, stderr). CPU is
    user + system time of the whole process tree (workers included, as ``wait4`` reports the
    children a process has reaped); unlike wall time it barely moves when other processes
    compete for the cores.

    The peak is ``ru_maxrss`` from ``wait4`` on the child: the same quantity as
    ``getrusage(RUSAGE_CHILDREN).ru_maxrss``, scoped to this run. It is the largest RSS reached
    by a single process of the tree (backlint's main process or one worker, whichever peaked
    higher), not the sum over workers.

    backlint runs *inside* the project (cwd = the directory, path ``.``), as a user or
    pre-commit runs it: the project's configuration is found from the working directory, and
    module names (hence import cycles and private-package checks) are computed relative to it.
    """
    target = directory.resolve()
    cwd, path = (target, ".") if target.is_dir() else (target.parent, target.name)
    argv = [
        *command,
        "check",
        "--output-format",
        "json",
        "--exit-zero",
        "--quiet",
        "--jobs",
        str(jobs),
        *extra,
        path,
    ]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        stderr = err.read().decode("utf-8", errors="replace")
    try:
        findings = len(json.loads(stdout)) if stdout.strip() else 0
    except json.JSONDecodeError:
        findings = -1
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss * _MAXRSS_TO_MIB, findings, process.returncode, stderr


def parse_jobs(values: Sequence[str]) -> list[int]:
    jobs: list[int] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            number = int(part)
            if number < 0:
                raise argparse.ArgumentTypeError(f"--jobs must be >= 0, got {number}")
            if number not in jobs:
                jobs.append(number)
    return jobs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Time `backlint check` on DIRECTORY against a single-process libcst parse."
    )
    parser.add_argument("directory", type=Path, help="the project (or file) to check")
    parser.add_argument(
        "--jobs",
        action="append",
        metavar="N[,N...]",
        help="worker counts to run backlint with; repeatable or comma-separated (default: 1,2)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="K",
        help="runs per measurement; the fastest is reported (default: 1)",
    )
    parser.add_argument(
        "--backlint-args",
        default="",
        metavar="ARGS",
        help='extra arguments for `backlint check`, one shell-quoted string, e.g. "--select BL4"',
    )
    parser.add_argument(
        "--backlint",
        default=None,
        metavar="CMD",
        help="command that runs backlint (default: this Python's `-m backlint`)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the libcst parse floor (and the ratio)"
    )
    return parser


def format_table(
    directory: Path, corpus: Corpus, floor: Floor | None, runs: Sequence[BacklintRun]
) -> str:
    out: list[str] = []
    out.append(f"directory   {directory}")
    out.append(f"files       {len(corpus.files)}  ({corpus.bytes / 1024 / 1024:.1f} MiB)")
    out.append(f"lines       {corpus.lines}")
    if floor is not None:
        rate = corpus.lines / floor.wall if floor.wall else 0.0
        note = ""
        if floor.parse_errors or floor.decode_errors:
            note = f"  ({floor.parse_errors} parse / {floor.decode_errors} decode errors)"
        out.append(
            f"parse floor {floor.wall:.2f} s wall, {floor.cpu:.2f} s CPU  ({rate:,.0f} lines/s, "
            f"1 process, libcst {libcst_version()}){note}"
        )
    out.append("")
    header = (
        f"{'jobs':>4}  {'wall s':>8}  {'CPU s':>7}  {'lines/s':>9}  {'peak RSS MiB':>12}"
        f"  {'findings':>8}"
    )
    if floor is not None:
        header += f"  {'x floor':>7}  {'CPU x floor':>11}"
    out.append(header)
    out.append("-" * len(header))
    for run in runs:
        rate = corpus.lines / run.wall if run.wall else 0.0
        row = (
            f"{run.jobs:>4}  {run.wall:>8.2f}  {run.cpu:>7.2f}  {rate:>9,.0f}"
            f"  {run.peak_rss_mib:>12.0f}  {run.findings:>8}"
        )
        if floor is not None:
            row += f"  {run.wall / floor.wall:>7.2f}  {run.cpu / floor.cpu:>11.2f}"
        out.append(row)
    for run in runs:
        if any(code != 0 for code in run.exit_codes):
            out.append(f"warning: jobs={run.jobs}: backlint exited with {run.exit_codes}")
        if run.stderr.strip():
            out.append(f"stderr (jobs={run.jobs}):")
            out.extend("  " + line for line in run.stderr.rstrip().splitlines())
    return "\n".join(out) + "\n"


def libcst_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("libcst")
    except PackageNotFoundError:
        return "?"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    options = parser.parse_args(argv)
    directory: Path = options.directory
    if not directory.exists():
        parser.error(f"{directory}: no such file or directory")
    try:
        jobs_values = parse_jobs(options.jobs or ["1,2"])
    except (ValueError, argparse.ArgumentTypeError) as error:
        parser.error(str(error))
    if not jobs_values:
        parser.error("--jobs: no worker count given")
    if options.repeat < 1:
        parser.error("--repeat must be >= 1")
    command = (
        shlex.split(options.backlint) if options.backlint else [sys.executable, "-m", "backlint"]
    )
    if command and os.sep in command[0] and Path(command[0]).exists():
        # backlint runs with the project as its working directory: pin a relative program
        # path, without resolving symlinks (a venv's python is a link that must stay one).
        command[0] = str(Path(command[0]).absolute())
    extra = shlex.split(options.backlint_args)

    corpus = load_corpus(directory)
    runs: list[BacklintRun] = []
    for jobs in jobs_values:
        run = BacklintRun(jobs=jobs)
        for _ in range(options.repeat):
            wall, cpu, rss, findings, code, stderr = run_backlint(command, directory, jobs, extra)
            run.walls.append(wall)
            run.cpus.append(cpu)
            run.peak_rss_mib = max(run.peak_rss_mib, rss)
            run.findings = findings
            run.exit_codes.append(code)
            if stderr and stderr not in run.stderr:
                run.stderr += stderr
        runs.append(run)

    floor: Floor | None = None
    if not options.no_floor:
        floor = Floor()
        for _ in range(options.repeat):
            seconds, cpu, floor.parse_errors, floor.decode_errors = parse_floor(corpus.files)
            floor.walls.append(seconds)
            floor.cpus.append(cpu)

    if options.json:
        print(json.dumps(to_json(directory, corpus, floor, runs), indent=2))
    else:
        sys.stdout.write(format_table(directory, corpus, floor, runs))
    failed = any(code != 0 for run in runs for code in run.exit_codes)
    return 1 if failed else 0


def to_json(
    directory: Path, corpus: Corpus, floor: Floor | None, runs: Sequence[BacklintRun]
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "directory": str(directory),
        "files": len(corpus.files),
        "lines": corpus.lines,
        "bytes": corpus.bytes,
        "libcst": libcst_version(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "parse_floor": None,
        "runs": [],
    }
    if floor is not None:
        result["parse_floor"] = {
            "wall_s": floor.wall,
            "walls_s": floor.walls,
            "median_s": statistics.median(floor.walls),
            "cpu_s": floor.cpu,
            "cpus_s": floor.cpus,
            "lines_per_s": corpus.lines / floor.wall if floor.wall else None,
            "parse_errors": floor.parse_errors,
            "decode_errors": floor.decode_errors,
        }
    for run in runs:
        entry = asdict(run)
        entry["wall_s"] = run.wall
        entry["walls_s"] = entry.pop("walls")
        entry["median_s"] = statistics.median(run.walls)
        entry["cpu_s"] = run.cpu
        entry["cpus_s"] = entry.pop("cpus")
        entry["lines_per_s"] = corpus.lines / run.wall if run.wall else None
        entry["ratio_to_floor"] = run.wall / floor.wall if floor is not None else None
        entry["cpu_ratio_to_floor"] = run.cpu / floor.cpu if floor is not None else None
        result["runs"].append(entry)
    return result


if __name__ == "__main__":
    sys.exit(main())

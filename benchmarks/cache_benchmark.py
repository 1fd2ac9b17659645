#!/usr/bin/env python3
"""Benchmark the persistent cache: cold, warm, one file changed, one file named.

The project is copied into a temporary directory first (its Python files and
configuration only), so editing a file there never touches the original. Each scenario
runs ``backlint check`` as a subprocess from inside the copy, as a developer or
pre-commit would, and records wall time, CPU time (the process and its workers: steadier
than wall time on a busy machine) and peak RSS::

    uncached        --no-cache, the whole project (what every run cost before the cache)
    first cached    the whole project with an empty cache (pays for writing it)
    warm            the whole project again, nothing changed
    one changed     the whole project after appending a comment to one file
    named warm      one file named on the command line, warm cache
    named cold      one file named, empty cache (indexes the project)

Usage::

    python benchmarks/cache_benchmark.py /path/to/project [--jobs 2] [--repeat 3]
        [--file relative/path.py] [--backlint-args "--preview"] [--json]

Wall times are the best of ``--repeat`` runs. Unset ``PYTHONDONTWRITEBYTECODE`` when
measuring: without bytecode caches every run recompiles backlint's modules.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_MAXRSS_TO_MIB = 1 / (1024 * 1024) if sys.platform == "darwin" else 1 / 1024
_COPIED = (".py", ".pyi", ".toml", ".cfg", ".ini", ".txt", ".gitignore")


def _copy_project(source: Path, target: Path) -> None:
    """The files backlint reads, and the markers that make the copy a project."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        unwanted = {".git", ".venv", "node_modules", ".backlint_cache"}
        return {
            name
            for name in names
            if name in unwanted
            or ((Path(directory) / name).is_file() and not name.endswith(_COPIED))
        }

    shutil.copytree(source, target, ignore=ignore, symlinks=True)
    (target / ".git").mkdir(exist_ok=True)  # a project root, as a checkout has


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float, int]:
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if process.stderr is not None:
        process.stderr.close()
    cpu = usage.ru_utime + usage.ru_stime  # the process and the workers it waited for
    return wall, cpu, usage.ru_maxrss * _MAXRSS_TO_MIB, os.waitstatus_to_exitcode(status)


def _largest_python_file(root: Path) -> Path:
    files = [path for path in root.rglob("*.py") if ".backlint_cache" not in path.parts]
    return max(files, key=lambda path: path.stat().st_size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--file", help="the file to change and to name (default: the largest)")
    parser.add_argument("--backlint-args", default="", help="extra arguments, shell-quoted")
    parser.add_argument("--backlint", default=f"{sys.executable} -m backlint")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args(argv)

    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env.pop("BACKLINT_CACHE_DIR", None)
    base = [
        *shlex.split(options.backlint),
        "check",
        "--exit-zero",
        "--quiet",
        "--output-format",
        "json",
        "--jobs",
        str(options.jobs),
        *shlex.split(options.backlint_args),
    ]
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="backlint-cache-bench-") as scratch:
        project = Path(scratch) / options.project.name
        _copy_project(options.project.resolve(), project)
        changed = project / options.file if options.file else _largest_python_file(project)
        named = changed.relative_to(project).as_posix()
        cache = project / ".backlint_cache"

        def measure(name: str, args: list[str], prepare: object = None) -> None:
            walls, cpus, peaks = [], [], []
            for _ in range(options.repeat):
                if callable(prepare):
                    prepare()
                wall, cpu, peak, code = _run([*base, *args], project, env)
                if code != 0:
                    print(f"{name}: backlint exited {code}", file=sys.stderr)
                walls.append(wall)
                cpus.append(cpu)
                peaks.append(peak)
            results[name] = {"wall": min(walls), "cpu": min(cpus), "rss_mib": max(peaks)}

        def clear() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        def touch() -> None:
            with changed.open("a", encoding="utf-8") as stream:
                stream.write("# edited\n")

        measure("uncached", ["--no-cache", "."])
        measure("first cached", ["."], clear)
        measure("warm", ["."])
        measure("one changed", ["."], touch)
        measure("named warm", [named])
        measure("named cold", [named], clear)

    cold = results["uncached"]["wall"]
    cold_cpu = results["uncached"]["cpu"]
    if options.json:
        print(json.dumps({"file": named, "results": results}, indent=2))
        return 0
    print(f"{options.project.name}: changed/named file {named}, --jobs {options.jobs}")
    header = f"{'scenario':<14} {'wall s':>8} {'x uncached':>11} {'CPU s':>8} {'CPU x':>7}"
    print(f"{header} {'peak RSS MiB':>13}")
    for name, values in results.items():
        share = values["wall"] / cold if cold else 0.0
        cpu_share = values["cpu"] / cold_cpu if cold_cpu else 0.0
        print(
            f"{name:<14} {values['wall']:>8.2f} {share:>11.3f} {values['cpu']:>8.2f} "
            f"{cpu_share:>7.3f} {values['rss_mib']:>13.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Time the project pass alone, with and without module summaries kept between runs.

Runs the file pass once (``backlint check --preview`` on DIR, in this process), then the
project pass on its results several ways, each ``--repeat`` times (the best is shown):

* ``no store``: summaries computed from parsed trees, as in a run without a cache;
* ``cold store``: a fresh ``MemorySummaryStore`` (the first run of a persistent cache);
* ``warm store``: the store the cold run filled (a later run where nothing changed: no
  module is parsed).

It also checks that the three give the same diagnostics. Usage::

    python benchmarks/project_pass.py /work/eco/netbox --repeat 3 [--profile out.prof]

``--profile`` writes a cProfile of one warm-store project pass.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import backlint.application as application
from backlint.diagnostics import Diagnostic
from backlint.engine.projectpass import Outcome, run_project_pass
from backlint.index.project import MemorySummaryStore


def _captured_arguments(directory: Path) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments ``run_check`` passes the project pass, for a preview run of DIR."""
    captured: dict[str, Any] = {}

    def capture(*args: Any, **kwargs: Any) -> Outcome:
        captured["call"] = (args, kwargs)
        return run_project_pass(*args, **kwargs)

    application.run_project_pass = capture  # type: ignore[assignment]
    try:
        request = application.CheckRequest(paths=(directory,), cwd=directory, preview=True)
        application.run_check(request)
    finally:
        application.run_project_pass = run_project_pass
    call: tuple[tuple[Any, ...], dict[str, Any]] = captured["call"]
    return call


def _timed(run: Callable[[], Outcome]) -> tuple[float, list[Diagnostic], int]:
    """Wall time, diagnostics and parse count of one project pass; the index (and the
    trees it parsed) is dropped before the next, so runs do not slow each other's
    garbage collection down."""
    gc.collect()
    start = time.perf_counter()
    outcome = run()
    elapsed = time.perf_counter() - start
    assert outcome.project is not None
    return elapsed, outcome.diagnostics, outcome.project.parses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=Path)
    options = parser.parse_args()
    args, kwargs = _captured_arguments(options.directory.resolve())
    plain = partial(run_project_pass, *args, **kwargs)

    no_store = [_timed(plain) for _ in range(options.repeat)]
    cold = [_timed(partial(plain, summaries=MemorySummaryStore())) for _ in range(options.repeat)]
    store = MemorySummaryStore()
    _timed(partial(plain, summaries=store))
    warm = [_timed(partial(plain, summaries=store)) for _ in range(options.repeat)]
    expected = no_store[0][1]
    assert all(run[1] == expected for run in (*no_store, *cold, *warm))
    assert all(run[2] == 0 for run in warm)
    print(f"project pass, no store:   {min(r[0] for r in no_store):6.2f} s", end="")
    print(f" ({no_store[0][2]} modules parsed)")
    print(f"project pass, cold store: {min(r[0] for r in cold):6.2f} s")
    print(f"project pass, warm store: {min(r[0] for r in warm):6.2f} s", end="")
    print(f" (0 parsed, {len(store.values)} summaries)")
    if options.profile:
        profiler = cProfile.Profile()
        profiler.runcall(plain, summaries=store)
        profiler.dump_stats(options.profile)


if __name__ == "__main__":
    main()

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
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import backlint.application as application
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


def _best(repeat: int, run: Callable[[], Outcome]) -> tuple[float, Outcome]:
    best, outcome = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        outcome = run()
        best = min(best, time.perf_counter() - start)
    assert outcome is not None
    return best, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=Path)
    options = parser.parse_args()
    args, kwargs = _captured_arguments(options.directory.resolve())
    plain = partial(run_project_pass, *args, **kwargs)

    no_store, expected = _best(options.repeat, plain)
    cold_times, stores = [], []
    for _ in range(options.repeat):
        store = MemorySummaryStore()
        start = time.perf_counter()
        cold = plain(summaries=store)
        cold_times.append(time.perf_counter() - start)
        stores.append(store)
    warm_store = stores[-1]
    warm_time, warm = _best(options.repeat, partial(plain, summaries=warm_store))
    assert cold.diagnostics == expected.diagnostics == warm.diagnostics
    assert warm.project is not None and warm.project.parses == 0
    parsed = cold.project.parses if cold.project is not None else 0
    print(f"project pass, no store:   {no_store:6.2f} s ({parsed} modules parsed)")
    print(f"project pass, cold store: {min(cold_times):6.2f} s")
    summaries = len(warm_store.values)
    print(f"project pass, warm store: {warm_time:6.2f} s (0 parsed, {summaries} summaries)")
    if options.profile:
        profiler = cProfile.Profile()
        profiler.runcall(plain, summaries=warm_store)
        profiler.dump_stats(options.profile)


if __name__ == "__main__":
    main()

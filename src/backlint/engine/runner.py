"""Runs the per-file pass over many files, in worker processes when ``jobs > 1``.

Each worker builds its ``FilePass`` once (cached per process) and receives files in
chunks. Results are put back in input order, so the run is identical for every ``jobs``
value. A worker that dies (libcst's native parser can crash on input ``ast`` accepted)
does not end the run: the files of the unfinished chunks are retried one per task, and the
one that kills a worker again is reported as an internal error.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from backlint.config import Settings
from backlint.diagnostics import RunProblem
from backlint.engine.filepass import FilePass, FileResult, FileTask
from backlint.rules.base import Rule

Progress = Callable[[int, int], None]

_CHUNK = 32


# libcst trees are millions of small objects that live exactly as long as one file's
# check. With CPython's default thresholds the collector scans the growing heap again and
# again while a tree is built (20-27% of a run on real projects); collecting rarely, with
# the long-lived imported objects frozen out of the scans, keeps memory flat all the same.
_GC_THRESHOLDS = (50_000, 50, 100)


@contextmanager
def _collect_rarely() -> Iterator[None]:
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


@functools.cache
def _worker_pass(settings: Settings, rule_classes: tuple[type[Rule], ...]) -> FilePass:
    # A worker process only ever checks files: tune its collector once, for its lifetime.
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)
    return FilePass(settings, rule_classes)


def _check_chunk(
    settings: Settings, rule_classes: tuple[type[Rule], ...], tasks: Sequence[FileTask]
) -> list[FileResult]:
    file_pass = _worker_pass(settings, rule_classes)
    return [file_pass.check(task) for task in tasks]


def run_file_pass(
    tasks: Sequence[FileTask],
    settings: Settings,
    rule_classes: tuple[type[Rule], ...],
    jobs: int,
    progress: Progress | None = None,
) -> list[FileResult]:
    """Check every task and return the results in the order of ``tasks``."""
    if jobs <= 1 or len(tasks) <= 1:
        file_pass = FilePass(settings, rule_classes)
        results = []
        with _collect_rarely():
            for done, task in enumerate(tasks, start=1):
                results.append(file_pass.check(task))
                if progress:
                    progress(done, len(tasks))
        return results
    chunks = [list(range(i, min(i + _CHUNK, len(tasks)))) for i in range(0, len(tasks), _CHUNK)]
    slots: list[FileResult | None] = [None] * len(tasks)
    pending = _run_chunks(tasks, chunks, settings, rule_classes, jobs, slots, progress)
    # A worker died: retry the unfinished files one at a time to find the culprit.
    for index in pending:
        retry = _run_chunks(tasks, [[index]], settings, rule_classes, 1, slots, None)
        if retry:
            slots[index] = FileResult(
                tasks[index].display,
                internal_errors=(
                    RunProblem(
                        tasks[index].display,
                        "internal error: the parser crashed on this file; it was skipped",
                    ),
                ),
            )
    return [slot for slot in slots if slot is not None]


def _run_chunks(
    tasks: Sequence[FileTask],
    chunks: list[list[int]],
    settings: Settings,
    rule_classes: tuple[type[Rule], ...],
    jobs: int,
    slots: list[FileResult | None],
    progress: Progress | None,
) -> list[int]:
    """Run ``chunks`` in a pool; return the task indexes left unfinished by a dead worker."""
    unfinished: list[int] = []
    done = 0
    with ProcessPoolExecutor(max_workers=min(jobs, len(chunks))) as pool:
        futures: dict[Future[list[FileResult]], list[int]] = {
            pool.submit(_check_chunk, settings, rule_classes, [tasks[i] for i in chunk]): chunk
            for chunk in chunks
        }
        for future in as_completed(futures):
            chunk = futures[future]
            try:
                results = future.result()
            except BrokenProcessPool:
                unfinished.extend(chunk)
                continue
            for index, result in zip(chunk, results, strict=True):
                slots[index] = result
            done += len(chunk)
            if progress:
                progress(done, len(tasks))
    return sorted(unfinished)

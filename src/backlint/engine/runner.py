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
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from backlint.config import Settings
from backlint.diagnostics import RunProblem
from backlint.engine.filepass import FilePass, FileResult, FileTask
from backlint.rules.base import Rule

Progress = Callable[[int, int], None]
# Called with a task's index and result as soon as it is known (the workspace caches it
# while the workers go on with other chunks).
OnResult = Callable[[int, FileResult], None]

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


def _ignore_interrupts() -> None:
    """Worker initializer: Ctrl-C is the parent's to handle (it stops the workers), so a
    worker neither dies with a traceback of its own nor leaves a chunk half done."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold back SIGINT while workers are started (``fork`` copies the signal mask), so
    that none is interrupted before ``_ignore_interrupts`` runs; the parent gets it on
    leaving."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _check_chunk(
    settings: Settings, rule_classes: tuple[type[Rule], ...], tasks: Sequence[FileTask]
) -> list[FileResult]:
    file_pass = _worker_pass(settings, rule_classes)
    return [file_pass.check(task) for task in tasks]


# How long the pool may go without finishing any chunk before its workers are presumed
# stuck (libcst's native parser can loop on pathological input that ``ast`` accepts on
# some Python versions). Generous: a chunk of real code takes a second or two.
STALL_TIMEOUT = 60.0
# How long to wait for a killed worker to be reaped (SIGKILL cannot be ignored).
_REAP_TIMEOUT = 10.0


def run_file_pass(
    tasks: Sequence[FileTask],
    settings: Settings,
    rule_classes: tuple[type[Rule], ...],
    jobs: int,
    progress: Progress | None = None,
    stall_timeout: float = STALL_TIMEOUT,
    on_result: OnResult | None = None,
) -> list[FileResult]:
    """Check every task and return the results in the order of ``tasks``.

    Even with ``jobs == 1`` several files are checked in a worker process: if libcst's
    native parser crashes or hangs on one file, the run survives and reports that file.
    A single file (an editor's stdin) is checked in this process.
    """
    if len(tasks) <= 1:
        file_pass = FilePass(settings, rule_classes)
        results = []
        with _collect_rarely():
            for done, task in enumerate(tasks, start=1):
                results.append(file_pass.check(task))
                if on_result:
                    on_result(done - 1, results[-1])
                if progress:
                    progress(done, len(tasks))
        return results
    runner = _PoolRun(tasks, settings, rule_classes, stall_timeout, on_result)
    chunks = [list(range(i, min(i + _CHUNK, len(tasks)))) for i in range(0, len(tasks), _CHUNK)]
    pending = runner.run(chunks, jobs, progress)
    # A worker died or stalled: retry the unfinished files one at a time to find the culprit.
    for index in pending:
        if runner.run([[index]], 1, None):
            runner.slots[index] = FileResult(
                tasks[index].display,
                internal_errors=(
                    RunProblem(
                        tasks[index].display,
                        "internal error: the parser crashed or stalled on this file; "
                        "it was skipped",
                    ),
                ),
            )
    return [slot for slot in runner.slots if slot is not None]


class _PoolRun:
    """Chunks of one run in worker pools, with the results put back in task order."""

    def __init__(
        self,
        tasks: Sequence[FileTask],
        settings: Settings,
        rule_classes: tuple[type[Rule], ...],
        stall_timeout: float,
        on_result: OnResult | None = None,
    ) -> None:
        self.tasks = tasks
        self.on_result = on_result
        self.settings = settings
        self.rule_classes = rule_classes
        self.stall_timeout = stall_timeout
        self.slots: list[FileResult | None] = [None] * len(tasks)

    def run(self, chunks: list[list[int]], jobs: int, progress: Progress | None) -> list[int]:
        """Run ``chunks`` in a pool; return the task indexes a dead or stuck worker left."""
        unfinished: list[int] = []
        done = 0
        pool = ProcessPoolExecutor(
            max_workers=min(jobs, len(chunks)), initializer=_ignore_interrupts
        )
        try:
            with _interrupts_held():
                futures: dict[Future[list[FileResult]], list[int]] = {
                    pool.submit(
                        _check_chunk,
                        self.settings,
                        self.rule_classes,
                        [self.tasks[i] for i in chunk],
                    ): chunk
                    for chunk in chunks
                }
            waiting = set(futures)
            while waiting:
                finished, waiting = wait(
                    waiting, timeout=self.stall_timeout, return_when=FIRST_COMPLETED
                )
                if not finished:  # nothing moved for the whole timeout: the workers are stuck
                    _stop_workers(pool)
                    unfinished.extend(i for future in waiting for i in futures[future])
                    break
                for future in finished:
                    chunk = futures[future]
                    try:
                        results = future.result()
                    except BrokenProcessPool:
                        unfinished.extend(chunk)
                        continue
                    for index, result in zip(chunk, results, strict=True):
                        self.slots[index] = result
                        if self.on_result:
                            self.on_result(index, result)
                    done += len(chunk)
                    if progress:
                        progress(done, len(self.tasks))
        except KeyboardInterrupt:
            # Ctrl-C: the workers ignore it; stop them now instead of waiting for their
            # chunks, and let the interruption end the run.
            _stop_workers(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return sorted(unfinished)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's worker processes (the executor has no public way to do it) and reap
    them: a killed process ends at once, so none is left behind as the run ends."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        process.kill()
    for process in processes:
        process.join(timeout=_REAP_TIMEOUT)

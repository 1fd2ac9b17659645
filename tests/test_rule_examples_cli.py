"""Every rule's examples once more, a sample of them through the real CLI as a subprocess.

``test_rule_examples.py`` runs all of them in-process; this runs the command a user types
(``backlint check --output-format json``) on some, each written as its own small project,
so argument parsing, configuration discovery, the worker pool and the JSON output are in
the loop.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from backlint.rules.base import Example, Rule
from backlint.rules.registry import all_rules

RULES = list(all_rules().values())
ENV = {**os.environ, "NO_COLOR": "1", "PYTHONSAFEPATH": "1"}
COMMAND = (sys.executable, "-m", "backlint", "check", "--output-format", "json", "--jobs", "1")


def _flagged(root: Path, rule: type[Rule], example: Example) -> int:
    for relative, source in [(example.path, example.source), *example.files]:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
    # An example may bring its own configuration (``include-low-confidence = true``).
    if not (root / "pyproject.toml").exists():
        (root / "pyproject.toml").write_text("[tool.backlint]\n", encoding="utf-8")
    completed = subprocess.run(
        [*COMMAND, "--extend-select", rule.code],
        cwd=root,
        capture_output=True,
        text=True,
        env=ENV,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr
    assert "Traceback" not in completed.stderr, completed.stderr
    return sum(1 for item in json.loads(completed.stdout) if item["code"] == rule.code)


def _cli_cases(rule: type[Rule]) -> list[tuple[str, Example]]:
    """The first invalid and first valid example, and every example with its own config.

    ``test_rule_examples.py`` runs all of them in-process through the same engine; here a
    subprocess per example would cost minutes for no new path through the code, so only
    what the command line adds is sampled: argument parsing, configuration discovery (an
    example's own ``pyproject.toml``), the worker pool and the JSON output.
    """
    cases: list[tuple[str, Example]] = []
    for kind in ("invalid", "valid"):
        for index, example in enumerate(rule.examples(kind)):
            if example.base is not None:
                continue  # a change: run in-process with git by test_rule_examples.py
            configured = any(path.endswith(".toml") for path, _ in example.files)
            if index == 0 or configured:
                cases.append((kind, example))
    return cases


@pytest.mark.parametrize("rule", RULES, ids=[rule.code for rule in RULES])
def test_examples_through_the_cli(tmp_path: Path, rule: type[Rule]) -> None:
    cases = _cli_cases(rule)
    # Each example is its own project; subprocesses overlap well even on two CPUs.
    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(
            pool.map(
                lambda numbered: _flagged(tmp_path / str(numbered[0]), rule, numbered[1][1]),
                enumerate(cases),
            )
        )
    for (kind, example), count in zip(cases, counts, strict=True):
        if kind == "valid":
            assert count == 0, f"{rule.code} flagged a valid example:\n{example.source}"
        elif example.expect is not None:
            assert count == example.expect, f"{rule.code}: {count} findings\n{example.source}"
        else:
            assert count > 0, f"{rule.code} missed an invalid example:\n{example.source}"

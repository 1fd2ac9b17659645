"""Baselines through the CLI: record today's findings, then report only new ones."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from cli_helpers import backlint

SOURCE = (
    "def sync(jobs):\n"
    "    for job in jobs:\n"
    "        try:\n"
    "            job.run()\n"
    "        except:\n"
    "            pass\n"
    "\n\n"
    "def flush(queue):\n"
    "    try:\n"
    "        queue.flush()\n"
    "    except:\n"
    "        pass\n"
)


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return backlint(root, "check", "--select", "BL201", *args)


def rows(completed: subprocess.CompletedProcess[str]) -> list[int]:
    items: list[dict[str, Any]] = json.loads(completed.stdout)
    return [item["location"]["row"] for item in items]


def project(tmp_path: Path, config: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.backlint]\n{config}", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "jobs.py").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def test_moved_findings_stay_baselined_and_a_new_one_is_reported(tmp_path: Path) -> None:
    root = project(tmp_path)
    written = run(root, "--write-baseline", "backlint-baseline.json")
    assert written.returncode == 0, written.stderr
    assert "recorded 2 findings" in written.stderr
    # Lines inserted above both findings, and one new bare except at the end.
    moved = "import logging\n\nlog = logging.getLogger(__name__)\n\n\n" + SOURCE
    new = "\n\ndef drain(pool):\n    try:\n        pool.drain()\n    except:\n        pass\n"
    (root / "app" / "jobs.py").write_text(moved + new, encoding="utf-8")
    completed = run(root, "--baseline", "backlint-baseline.json", "--output-format", "json")
    assert completed.returncode == 1
    assert rows(completed) == [moved.count("\n") + 6]


def test_a_second_identical_finding_in_the_same_file_is_new(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert run(root, "--write-baseline", "base.json").returncode == 0
    duplicate = SOURCE + "\n\n" + SOURCE.replace("sync", "resync").replace("flush", "reflush")
    (root / "app" / "jobs.py").write_text(duplicate, encoding="utf-8")
    completed = run(root, "--baseline", "base.json", "--output-format", "json")
    assert len(rows(completed)) == 2  # the copies' two `except:` lines are new


def test_baseline_from_the_configuration_and_a_clean_run(tmp_path: Path) -> None:
    root = project(tmp_path, 'baseline = "quality/baseline.json"\n')
    assert run(root, "--write-baseline", "quality/baseline.json").returncode == 0
    completed = run(root, "--output-format", "json")
    assert completed.returncode == 0 and rows(completed) == []


def test_a_broken_baseline_is_a_clear_error(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "base.json").write_text("{not json", encoding="utf-8")
    completed = run(root, "--baseline", "base.json")
    assert completed.returncode == 2
    assert "not a backlint baseline" in completed.stderr
    missing = run(root, "--baseline", "missing.json")
    assert missing.returncode == 2 and "cannot read the baseline" in missing.stderr


def test_sarif_fingerprints_are_the_baseline_fingerprints(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert run(root, "--write-baseline", "base.json").returncode == 0
    recorded = {e["fingerprint"] for e in json.loads((root / "base.json").read_text())["findings"]}
    sarif = json.loads(run(root, "--output-format", "sarif").stdout)
    shown = {r["partialFingerprints"]["backlint/v1"] for r in sarif["runs"][0]["results"]}
    assert shown == recorded and len(recorded) == 2

"""The ecosystem scripts (benchmarks/ecosystem): run, sample, ledger and diff on a fixture project.

The scripts are tools for people, not part of backlint, but the precision ledger is built
with them, so what they compute must be right: a verdict that lands on the wrong finding,
or a diff that calls a moved finding new, would corrupt the measurement.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ECOSYSTEM = Path(__file__).resolve().parent.parent / "benchmarks" / "ecosystem"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
sys.path.insert(0, str(ECOSYSTEM))

import diff  # noqa: E402
import ledger  # noqa: E402
import projects  # noqa: E402
import run  # noqa: E402
import sample  # noqa: E402


def _manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.toml"
    path.write_text(
        '[[project]]\nname = "shop"\nrepo = "example/shop"\ncommit = "abc"\nset = "check"\n'
        'kind = "Flask"\n'
        '[[project]]\nname = "tuned"\nrepo = "example/tuned"\ncommit = "def"\nset = "tuning"\n'
        'kind = "Django"\n',
        encoding="utf-8",
    )
    return path


def _finding(
    project: str, code: str, path: str, row: int, text: str, **extra: Any
) -> dict[str, Any]:
    return {
        "id": projects.fingerprint(project, code, path, text),
        "project": project,
        "code": code,
        "name": "rule-name",
        "path": path,
        "row": row,
        "column": 1,
        "end_row": row,
        "message": extra.get("message", f"{code} at {row}"),
        "severity": "warning",
        "confidence": extra.get("confidence", "high"),
        "related": [],
    }


def _results(folder: Path, findings: dict[str, list[dict[str, Any]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, items in findings.items():
        projects.findings_file(folder, name).write_text(json.dumps(items), encoding="utf-8")
    summary = {
        "backlint": "test",
        "projects": [{"project": name, "status": "ok"} for name in findings],
        "crashes": [],
        "wall_seconds": 1.0,
    }
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


def test_manifest_of_the_repository_is_valid_and_split() -> None:
    loaded = projects.load_manifest()
    assert len(loaded) >= 15
    assert len({p.name for p in loaded}) == len(loaded)
    assert {p.set for p in loaded} == {"tuning", "check"}
    assert all(len(p.commit) == 40 for p in loaded)


def test_fingerprint_ignores_line_number_and_indentation() -> None:
    first = projects.fingerprint("p", "BL202", "a.py", "    except Exception:")
    assert first == projects.fingerprint("p", "BL202", "a.py", "except Exception:  ")
    assert first != projects.fingerprint("p", "BL201", "a.py", "except Exception:")
    assert first != projects.fingerprint("q", "BL202", "a.py", "except Exception:")


def test_run_records_counts_and_relative_paths(tmp_path: Path) -> None:
    checkouts = tmp_path / "eco"
    shutil.copytree(FIXTURES / "flask_shop", checkouts / "shop")
    project = projects.Project("shop", "example/shop", "abc", "check", "Flask")
    backlint = [sys.executable, "-m", "backlint"]
    summary, findings = run.run_project(project, checkouts, backlint, None, 1, [])
    assert summary["status"] == "ok", summary["stderr"]
    assert summary["findings"] == len(findings) > 0
    assert sum(summary["by_rule"].values()) == len(findings)
    assert all(not Path(f["path"]).is_absolute() for f in findings)
    first = findings[0]
    line = (checkouts / "shop" / first["path"]).read_text(encoding="utf-8").splitlines()
    assert first["id"] == projects.fingerprint(
        "shop", first["code"], first["path"], line[first["row"] - 1]
    )


def test_a_missing_checkout_is_reported_not_run(tmp_path: Path) -> None:
    project = projects.Project("absent", "example/absent", "abc", "check", "")
    summary, findings = run.run_project(project, tmp_path, ["false"], None, 1, [])
    assert summary["status"] == "missing"
    assert findings == []


def test_sample_spreads_over_projects_and_skips_judged_and_low_confidence() -> None:
    import random

    by_project = {
        "big": [_finding("big", "BL202", "a.py", row, f"line {row}") for row in range(1, 101)],
        "small": [_finding("small", "BL202", "b.py", row, f"line {row}") for row in range(1, 3)],
    }
    drawn = sample._draw(by_project, 6, random.Random(1))
    assert len(drawn) == 6
    assert sum(f["project"] == "small" for f in drawn) == 2  # round-robin, not proportional
    assert sample._draw(by_project, 6, random.Random(1)) == drawn  # seeded


def test_sheet_round_trip_into_verdicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = _manifest(tmp_path)
    monkeypatch.setattr(projects, "MANIFEST", manifest)
    monkeypatch.setattr(ledger, "load_manifest", lambda: projects.load_manifest(manifest))
    verdicts = tmp_path / "verdicts.jsonl"
    monkeypatch.setattr(ledger, "VERDICTS", verdicts)
    monkeypatch.setattr(ledger, "iter_verdicts", lambda: projects.iter_verdicts(verdicts))
    checkouts = tmp_path / "eco"
    (checkouts / "shop").mkdir(parents=True)
    source = "".join(f"x{n} = {n}\n" for n in range(1, 30))
    (checkouts / "shop" / "a.py").write_text(source, encoding="utf-8")
    one = _finding("shop", "BL202", "a.py", 3, "x3 = 3")
    two = _finding("shop", "BL202", "a.py", 20, "x20 = 20")
    # Identical line text elsewhere in the file: the same id, told apart by the row.
    twin = _finding("shop", "BL202", "a.py", 25, "x3 = 3")
    assert twin["id"] == one["id"]
    text = sample.render({"BL202": [one, two, twin]}, checkouts, 8, "r1")
    first_entry = text.split("### [")[1]
    assert "> 3 | x3 = 3" in first_entry and " 11 | x11 = 11" in first_entry
    assert "x12 = 12" not in first_entry  # +/- 8 lines of context
    # The reviewer fills in the first finding only; a code line reading "verdict:" is ignored.
    filled = text.replace("verdict: \nreason: ", "verdict: FP\nreason: startup code, runs once", 1)
    head, _, tail = filled.rpartition("verdict: \nreason: ")  # the twin, last in the sheet
    filled = f"{head}verdict: debatable\nreason: an existing one{tail}"
    sheet = tmp_path / "sheet.md"
    sheet.write_text(filled, encoding="utf-8")
    sidecar = {"round": "r1", "findings": {"BL202": [one, two, twin]}}
    sheet.with_suffix(".json").write_text(json.dumps(sidecar), encoding="utf-8")
    assert ledger.parse_sheet(filled) == {
        (one["id"], 3): ("FP", "startup code, runs once"),
        (twin["id"], 25): ("debatable", "an existing one"),
    }
    ledger.add([sheet])
    ledger.add([sheet])  # adding the same sheet twice records each verdict once
    lines = [json.loads(line) for line in verdicts.read_text(encoding="utf-8").splitlines()]
    assert [(v["id"], v["row"], v["verdict"], v["set"], v["commit"]) for v in lines] == [
        (one["id"], 3, "FP", "check", "abc"),
        (one["id"], 25, "debatable", "check", "abc"),
    ]


def test_render_applies_the_bar(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rules = [
        {"code": "BL100", "name": "good", "preview": False, "default_enabled": True},
        {"code": "BL200", "name": "few", "preview": False, "default_enabled": True},
        {"code": "BL300", "name": "noisy", "preview": True, "default_enabled": False},
    ]
    rows = []
    for n in range(20):
        rows.append({"code": "BL100", "verdict": "TP" if n else "debatable"})
        rows.append({"code": "BL300", "verdict": "TP" if n % 2 else "FP"})
    rows += [{"code": "BL200", "verdict": "TP"} for _ in range(19)]
    for n, row in enumerate(rows):
        row.update(
            id=f"{n:012x}",
            round="r1",
            set="check",
            project="p",
            path="a.py",
            row=n + 1,
            reason="because",
        )
    rows.append({**rows[0], "set": "tuning", "verdict": "FP", "id": "f" * 12})  # not counted
    monkeypatch.setattr(ledger, "_rules", lambda backlint: rules)
    monkeypatch.setattr(ledger, "iter_verdicts", lambda: iter(rows))
    text = ledger.render("unused", "# Ledger\n")
    summary = {
        line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| BL")
    }
    assert "| 95 % | yes |" in summary["BL100"]  # 19 TP of 20: debatable counts against
    assert "| 100 % | no |" in summary["BL200"]  # too few findings
    assert "| 50 % | no |" in summary["BL300"] and "| preview |" in summary["BL300"]
    # The bar is enforced: a rule on by default below it is named (BL200: 19 findings).
    assert ledger.below_the_bar("unused") == ["BL200"]
    rules.append({"code": "BL001", "name": "syntax", "preview": False, "default_enabled": True})
    assert ledger.below_the_bar("unused") == ["BL200"]  # exempt without a round


def test_diff_matches_moved_findings_and_counts_duplicates(tmp_path: Path) -> None:
    old = _results(
        tmp_path / "old",
        {
            "shop": [
                _finding("shop", "BL202", "a.py", 10, "except Exception:"),
                _finding("shop", "BL202", "a.py", 30, "except Exception:"),
                _finding("shop", "BL301", "b.py", 5, "REG.append(x)"),
            ]
        },
    )
    new = _results(
        tmp_path / "new",
        {
            "shop": [
                _finding("shop", "BL202", "a.py", 12, "except Exception:", message="reworded"),
                _finding("shop", "BL501", "c.py", 7, "time.sleep(1)"),
            ]
        },
    )
    result = diff.compare(old, new, None)
    assert [f["row"] for f in result["removed"]["BL202"]] == [30]  # one of two identical lines
    assert "BL202" not in result["added"]
    assert [f["code"] for f in result["removed"]["BL301"]] == ["BL301"]
    assert [f["path"] for f in result["added"]["BL501"]] == ["c.py"]
    text = diff.render(result, details=5)
    assert "| BL202 | 2 | 1 | +0 | -1 | shop -1 |" in text
    assert "`shop/c.py:7` BL501 at 7" in text


def test_ledger_in_docs_is_current() -> None:
    """docs/precision.md is generated from verdicts.jsonl: editing one without the other fails."""
    done = subprocess.run(
        [sys.executable, str(ECOSYSTEM / "ledger.py"), "render", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr

"""An earlier run's summary.json as a baseline: what failed since, what was fixed, how each budget moved."""

from __future__ import annotations

import json
from pathlib import Path

from infra_conformance.errors import UsageProblem, printable


def read(path: Path) -> dict:
    """A summary.json, or a UsageProblem saying why it cannot be a baseline."""
    shown = printable(str(path), 200)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as error:
        raise UsageProblem(f"--baseline {shown}: cannot read it ({printable(str(error), 80, False)})") from None
    except json.JSONDecodeError as error:
        raise UsageProblem(f"--baseline {shown}: not JSON (line {error.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("controls"), list) or \
            not isinstance(data.get("budgets"), list):
        raise UsageProblem(f"--baseline {shown}: not a summary.json (no 'controls' and 'budgets')")
    return data


def _failed(summary: dict) -> set[str]:
    return {c["id"] + (f"[{c['case']}]" if c.get("case") else "") for c in summary["controls"]
            if c.get("outcome") == "failed"}


def change_percent(measured: float, baseline: float) -> float:
    """How much worse (positive) or better (negative) than the baseline, in percent.

    >>> change_percent(120, 100)
    20.0
    """
    return (measured - baseline) / baseline * 100 if baseline else 0.0


def compare(summary: dict, baseline: dict, name: str) -> dict:
    """New failures, fixes and budget deltas; every budget here is better when lower."""
    before = {b["name"]: b["measured"] for b in baseline["budgets"] if isinstance(b.get("measured"), int | float)}
    return {
        "baseline": name,
        "new_failures": sorted(_failed(summary) - _failed(baseline)),
        "fixed": sorted(_failed(baseline) - _failed(summary)),
        "budgets": {b["name"]: {"baseline": before[b["name"]], "measured": b["measured"],
                                "change_percent": round(change_percent(b["measured"], before[b["name"]]), 1)}
                    for b in summary["budgets"] if b["name"] in before},
    }


def baseline_value(baseline: dict | None, name: str) -> float | None:
    for budget in (baseline or {}).get("budgets", []):
        if budget.get("name") == name and isinstance(budget.get("measured"), int | float):
            return float(budget["measured"])
    return None

"""Repeat a conformance run and compare the runs: each control's verdict, and each budget's minimum, median and maximum.

    python -m infra_conformance.measure.stability --runs 5 --reports-dir reports/stability
    python -m infra_conformance.measure.stability --runs 3 --background-load --reports-dir reports/stability-loaded

Each run is ``pytest suites`` with its own reports folder. With ``--background-load``, one sysbench CPU thread
runs on CPU 0 for the whole of each run. A run either keeps every verdict or stops with the contention message
(exit 3); a control whose verdict differs between completed runs is a flip, and a run that ends any other way
(bad input, a crash, an exit 3 without that message) is broken. A completed run is quiet when every budget was
measured within its contention thresholds and every latency figure within 3 % of steal on the stack's CPUs;
the spreads are over the quiet runs, and a quiet campaign goes on
until ``--runs`` of them (at most ``--max-runs`` runs). Writes ``stability.json`` and ``stability.md`` in the
reports folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from infra_conformance.measure.budgets import API_P95

ROOT = Path(__file__).parents[2]
BACKGROUND = ["taskset", "-c", "0", "sysbench", "cpu", "--threads=1", "--time=0", "run"]


def one_run(folder: Path, extra: list[str], background: bool) -> dict:
    """Run the suite once; what it decided, measured and said."""
    load = subprocess.Popen(BACKGROUND, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if background else None
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
                               "--reports-dir", str(folder), *extra], cwd=ROOT, capture_output=True, text=True)
    finally:
        if load:
            load.terminate()
            load.wait(timeout=30)
    summary_path = folder / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    said = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("conformance: the host")]
    return {"exit": done.returncode, "duration_s": round(time.monotonic() - started, 1),
            "verdict": summary.get("verdict"), "stopped": said[-1] if said else None,
            "outcomes": {_case(c): c["outcome"] for c in summary.get("controls", [])},
            "budgets": {b["name"]: _budget(b) for b in summary.get("budgets", [])}}


def _budget(budget: dict) -> dict:
    """A budget's figure and verdict, and whether it was measured under too much contention to compare (``noisy``:
    too busy, or a latency figure with more than ``LATENCY_STEAL_SHARE`` of steal)."""
    contention = budget["conditions"].get("contention") or {}
    return {"measured": budget["measured"], "limit": budget["limit"], "passed": budget["passed"],
            "contention": contention.get("summary"), "stolen": contention.get("stack_steal_share"),
            "noisy": bool(contention.get("too_busy") or contention.get("blurred"))}


def quiet(run: dict) -> bool:
    """Completed, with no budget's figure noisy (a pass under contention stands, but its figure is not one to
    compare)."""
    return run["exit"] in (0, 1) and not any(budget.get("noisy") for budget in run["budgets"].values())


def _quietness(run: dict) -> str:
    """``yes``, or ``no`` with the first noisy budget and its share of steal."""
    if quiet(run):
        return "yes"
    noisy = [f"{name}, {budget['stolen'] * 100:.0f} % stolen" for name, budget in run["budgets"].items()
             if budget.get("noisy") and budget.get("stolen") is not None]
    return f"no ({noisy[0]})" if noisy else "no"


def _stopped(run: dict) -> bool:
    """Ended by the contention message: exit 3 for another reason (no engine, a port in use) is no evidence."""
    return run["exit"] == 3 and bool(run.get("stopped"))


def _case(control: dict) -> str:
    return control["id"] + (f"[{control['case']}]" if control["case"] else "")


def compare(runs: list[dict]) -> dict:
    """Flips between completed runs, and each budget's spread around its median over the quiet runs.

    >>> a = {"exit": 0, "outcomes": {"X-01": "passed"}, "budgets": {"p95": {"measured": 10.0}}}
    >>> b = {"exit": 1, "outcomes": {"X-01": "failed"}, "budgets": {"p95": {"measured": 12.0}}}
    >>> found = compare([a, b, {**a, "budgets": {"p95": {"measured": 11.0}}}])
    >>> found["flips"], found["budgets"]["p95"]
    ({'X-01': ['passed', 'failed', 'passed']}, {'min': 10.0, 'median': 11.0, 'max': 12.0, 'spread_percent': 9.1})
    >>> noisy = {**a, "budgets": {"p95": {"measured": 30.0, "noisy": True}}}
    >>> found = compare([a, noisy]); found["quiet"], found["budgets"]["p95"]["max"], found["flips"]
    (1, 10.0, {})
    >>> compare([{"exit": 4, "outcomes": {}, "budgets": {}}])["broken"]
    [1]
    >>> compare([{"exit": 3, "stopped": None, "outcomes": {}, "budgets": {}}])["broken"]  # no engine, say
    [1]
    """
    completed = [run for run in runs if run["exit"] in (0, 1)]
    stopped = [run for run in runs if _stopped(run)]
    broken = [i for i, run in enumerate(runs, 1) if run["exit"] not in (0, 1) and not _stopped(run)]
    cases = sorted({case for run in completed for case in run["outcomes"]})
    flips = {case: seen for case in cases
             if len(set(seen := [run["outcomes"].get(case, "not run") for run in completed])) > 1}
    calm, budgets = [run for run in completed if quiet(run)], {}
    for name in sorted({name for run in calm for name in run["budgets"]}):
        values = [run["budgets"][name]["measured"] for run in calm if name in run["budgets"]]
        middle = statistics.median(values)
        spread = max(abs(v - middle) for v in values) / middle * 100 if middle else float("inf")
        budgets[name] = {"min": min(values), "median": middle, "max": max(values),
                         "spread_percent": round(spread, 1)}
    return {"completed": len(completed), "quiet": len(calm), "stopped": len(stopped), "broken": broken,
            "flips": flips, "budgets": budgets}


def markdown(result: dict, background: bool) -> str:
    lines = [f"# Stability: {len(result['runs'])} runs" + (" with a background load (sysbench, CPU 0)"
                                                           if background else " on a quiet machine"), "",
             "| run | exit | verdict | quiet | duration | API p95 | contention (load window) |",
             "|---|---|---|---|---|---|---|"]
    for i, run in enumerate(result["runs"], 1):
        api = run["budgets"].get(API_P95.name) or {}
        contention = run["stopped"] or api.get("contention") or ""
        figure = f"{api['measured']:g} ms" if api else ""
        lines.append(f"| {i} | {run['exit']} | {run['verdict']} | {_quietness(run)} | "
                     f"{run['duration_s']:.0f} s | {figure} | {contention} |")
    found = result["comparison"]
    lines += ["", f"Completed runs: {found['completed']}, of which quiet: {found['quiet']}; stopped as an environment "
              f"problem: {found['stopped']}; broken (bad input, a crash or another exit 3, so no evidence): "
              f"{len(found['broken'])}.",
              "", "Flips: " + (", ".join(f"{case} {seen}" for case, seen in found["flips"].items()) or "none"), "",
              f"Over the {found['quiet']} quiet runs:" if found["budgets"] else "No quiet run, so no spreads."]
    if found["budgets"]:
        lines += ["", "| budget | min | median | max | spread around the median |", "|---|---|---|---|---|"]
        lines += [f"| {name} | {b['min']:g} | {b['median']:g} | {b['max']:g} | ±{b['spread_percent']:g} % |"
                  for name, b in found["budgets"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="quiet runs wanted (with --background-load: runs)")
    parser.add_argument("--max-runs", type=int, help="at most this many runs in all (default: twice --runs)")
    parser.add_argument("--background-load", action="store_true")
    parser.add_argument("--reports-dir", type=Path, default=ROOT / "reports" / "stability")
    parser.add_argument("pytest_args", nargs="*", help="after --: more arguments for each run")
    args = parser.parse_args(argv)
    if args.background_load and not shutil.which("sysbench"):
        print("stability: --background-load needs sysbench (scripts/setup.sh installs it)", file=sys.stderr)
        return 3
    args.reports_dir.mkdir(parents=True, exist_ok=True)
    runs, most = [], args.runs if args.background_load else (args.max_runs or 2 * args.runs)
    wanted = (lambda: len(runs)) if args.background_load else (lambda: sum(map(quiet, runs)))
    while wanted() < args.runs and len(runs) < most:
        runs.append(one_run(args.reports_dir / f"run-{len(runs) + 1}", args.pytest_args, args.background_load))
        print(f"stability: run {len(runs)} (at most {most}): exit {runs[-1]['exit']}, "
              f"{runs[-1]['duration_s']:.0f} s" + ("" if quiet(runs[-1]) else ", not quiet"), flush=True)
    result = {"background_load": " ".join(BACKGROUND) if args.background_load else None, "runs": runs,
              "comparison": compare(runs)}
    (args.reports_dir / "stability.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.reports_dir / "stability.md").write_text(markdown(result, args.background_load))
    print((args.reports_dir / "stability.md").read_text())
    found = result["comparison"]
    if found["broken"]:
        print(f"stability: run {', '.join(map(str, found['broken']))} ended with neither a verdict nor the contention "
              f"message; see {args.reports_dir}", file=sys.stderr)
    short = not args.background_load and found["quiet"] < args.runs
    if short:
        print(f"stability: {found['quiet']} quiet runs of the {args.runs} wanted in {len(runs)}; the spreads need a "
              "quieter machine (docs/budgets.md)", file=sys.stderr)
    # Flips fail; so do broken runs, and a quiet campaign short of its quiet runs: no evidence is no pass.
    return 1 if found["flips"] or found["broken"] or short else 0


if __name__ == "__main__":
    sys.exit(main())

"""``summary.md``: the verdict, the counts, the top failures with their fixes and the budgets, for a CI step summary."""

from __future__ import annotations

from infra_conformance.controls import SEVERITIES
from infra_conformance.platforms import describe

TOP_FAILURES = 20
LIMIT_BYTES = 64 * 1024  # GitHub allows 1 MiB per step summary; a reviewer needs far less


def _cell(text) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def not_run(summary: dict) -> str:
    """Why selected controls have no result: ``-n`` left them out, or the run ended early; '' when all ran.

    >>> not_run({"not_run": 3, "left_out": {"ids": ["GW-03"], "cases": 1}})
    '3 selected controls did not run: -n left out GW-03, which need the stack alone; the run ended early'
    >>> not_run({"not_run": 0})
    ''
    """
    count = summary.get("not_run") or 0
    left_out = summary.get("left_out") or {"ids": [], "cases": 0}
    reasons = [f"-n left out {', '.join(left_out['ids'])}, which need the stack alone"] if left_out["ids"] else []
    reasons += ["the run ended early"] if count > left_out["cases"] else []
    return f"{count} selected controls did not run: {'; '.join(reasons)}" if count else ""


def markdown(summary: dict) -> str:
    """The summary as Markdown, cut to well under GitHub's limit.

    >>> markdown({"verdict": "passed", "stack": {"name": "s", "arch": "x86_64", "pi_emulation": False},
    ...           "totals": {"passed": 1, "failed": 0, "skipped": 0}, "controls": [], "budgets": []}).splitlines()[0]
    '## Conformance: PASSED (s, x86_64, Pi emulation off)'
    """
    stack, totals = summary["stack"], summary["totals"]
    emulation = "on" if stack.get("pi_emulation") else "off"
    profile = f", compose profile {stack['compose_profile']}" if stack.get("compose_profile") else ""
    title = f"{summary['verdict'].upper()} ({stack['name']}{profile}, {stack['arch']}, Pi emulation {emulation})"
    lines = [f"## Conformance: {title}", *(["", f"Platforms: {line}"] if (line := describe(summary)) else []),
             "", "| passed | failed | skipped |", "|---|---|---|",
             f"| {totals['passed']} | {totals['failed']} | {totals['skipped']} |"]
    if line := not_run(summary):
        lines += ["", f"{line}, so nothing is known of them."]
    failed = sorted((c for c in summary["controls"] if c["outcome"] == "failed"),
                    key=lambda c: (SEVERITIES.index(c["severity"]), c["id"], c["nodeid"]))
    if failed:
        lines += ["", "### Failures, most severe first", "",
                  "| ID | case | severity | found | fix |", "|---|---|---|---|---|"]
        lines += [f"| {c['id']} | {_cell(c['case'])} | {c['severity']} | {_cell(c['message'])[:300]} | "
                  f"{_cell(c.get('fix'))} |" for c in failed[:TOP_FAILURES]]
        if len(failed) > TOP_FAILURES:
            lines.append(f"\n… and {len(failed) - TOP_FAILURES} more in report.html")
    if summary["budgets"]:
        lines += ["", "### Budgets", "", "| budget | measured | limit | ratio | result |", "|---|---|---|---|---|"]
        lines += [f"| {b['name']} | {b['measured']:g} {b['unit']} | {b['limit']:g} {b['unit']} | "
                  f"{b['measured'] / b['limit']:.0%} | {'pass' if b['passed'] else 'FAIL'} |"
                  for b in summary["budgets"]]
    text = "\n".join(lines) + "\n"
    if len(text.encode()) > LIMIT_BYTES:
        text = text.encode()[:LIMIT_BYTES].decode(errors="ignore") + "\n…\n"
    return text

"""``summary.md``: the verdict, the counts, the top failures with their fixes and the budgets, for a CI step summary."""

from __future__ import annotations

from infra_conformance.controls.metadata import SEVERITIES
from infra_conformance.engine.platforms import describe
from infra_conformance.report.summary import OUTCOMES

TOP_FAILURES = 20
LIMIT_BYTES = 64 * 1024  # GitHub allows 1 MiB per step summary; a reviewer needs far less


def _cell(text) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def not_run(summary: dict) -> str:
    """Why cases that were to run have no result: the run ended early; '' when all ran.

    >>> not_run({"not_run": 3})
    '3 selected cases did not run: the run ended early'
    >>> not_run({"not_run": 0})
    ''
    """
    count = summary.get("not_run") or 0
    return f"{count} selected cases did not run: the run ended early" if count else ""


def compose_profiles_line(summary: dict) -> str:
    """One line: the compose profile booted, and which promised ones this run proved.

    >>> compose_profiles_line({"compose_profiles": {"booted": None, "proven": ["prod", "test"],
    ...                                             "not_proven": {"dev": ["admin"]}}})
    'none booted; proven in this run: prod, test; not proven in this run: dev (admin not run)'
    """
    found = summary.get("compose_profiles")
    if not found:
        return ""
    parts = [f"{found['booted'] or 'none'} booted"]
    parts += [f"proven in this run: {', '.join(found['proven'])}"] if found["proven"] else []
    parts += ["not proven in this run: " + ", ".join(f"{name} ({', '.join(services)} not run)"
                                                       for name, services in found["not_proven"].items())
              ] if found["not_proven"] else []
    return "; ".join(parts)


def waiver_rows(summary: dict) -> list[tuple[str, str, str, str]]:
    """(case, state, reason, expiry) for each waived case, then each expired and each stale waiver.

    >>> waiver_rows({"controls": [], "waivers": {"expired": [{"control": "CTR-01", "case": None, "reason": "r",
    ...              "expires": "2020-01-01"}], "stale": []}})
    [('CTR-01', 'expired: fails the run', 'r', '2020-01-01')]
    """
    rows = [(c["id"] + (f"[{c['case']}]" if c.get("case") else ""), "waived", c["message"] or "", "")
            for c in summary["controls"] if c["outcome"] == "waived"]
    for state, label in (("expired", "expired: fails the run"), ("stale", "stale: every case it covers passed")):
        rows += [(w["control"] + (f"[{w['case']}]" if w.get("case") else ""), label, w["reason"], w["expires"])
                 for w in summary.get("waivers", {}).get(state, [])]
    return rows


def markdown(summary: dict) -> str:
    """The summary as Markdown, cut to well under GitHub's limit.

    >>> markdown({"verdict_line": "PASSED", "stack": {"name": "s", "arch": "x86_64", "pi_emulation": False},
    ...           "totals": {"passed": 1}, "controls": [], "budgets": []}).splitlines()[0]
    '## Conformance: PASSED (s, x86_64, Pi emulation off)'
    """
    stack, totals = summary["stack"], summary["totals"]
    emulation = "on" if stack.get("pi_emulation") else "off"
    profile = f", compose profile {stack['compose_profile']}" if stack.get("compose_profile") else ""
    title = f"{summary['verdict_line']} ({stack['name']}{profile}, {stack['arch']}, Pi emulation {emulation})"
    lines = [f"## Conformance: {title}", *(["", f"Platforms: {line}"] if (line := describe(summary)) else []),
             *(["", f"Compose profiles: {line}"] if (line := compose_profiles_line(summary)) else []),
             "", "| " + " | ".join(o.replace("_", " ") for o in OUTCOMES) + " |", "|---" * len(OUTCOMES) + "|",
             "| " + " | ".join(str(totals.get(o, 0)) for o in OUTCOMES) + " |"]
    if line := not_run(summary):
        lines += ["", f"{line}, so nothing is known of them."]
    gaps = (summary.get("coverage") or {}).get("not_fully_checked", [])
    if gaps:
        lines += ["", "### Not checked in this run", "", "| ID | cases | why |", "|---|---|---|"]
        lines += [f"| {gap['id']} | {len(gap['cases'])} | {_cell(sorted({c['reason'] for c in gap['cases']})[0])} |"
                  for gap in gaps[:TOP_FAILURES]]
        if len(gaps) > TOP_FAILURES:
            lines.append(f"\n… and {len(gaps) - TOP_FAILURES} more controls in summary.json's coverage")
    if rows := waiver_rows(summary):
        lines += ["", "### Waivers", "", "| case | state | reason | expires |", "|---|---|---|---|"]
        lines += [f"| {_cell(case)} | {state} | {_cell(reason)[:300]} | {expires} |"
                  for case, state, reason, expires in rows]
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
                  f"{b['measured'] / b['limit']:.0%} | {b['result']} |"
                  for b in summary["budgets"]]
    text = "\n".join(lines) + "\n"
    if len(text.encode()) > LIMIT_BYTES:
        text = text.encode()[:LIMIT_BYTES].decode(errors="ignore") + "\n…\n"
    return text

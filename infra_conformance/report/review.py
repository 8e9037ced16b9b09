"""The reviewer's part of report.html: verdict, tiles, changes, failures with fixes, budgets, plots, controls.

Every value is escaped; the page needs no script, style sheet, font or image from elsewhere.
"""

from __future__ import annotations

from html import escape
from itertools import groupby

from infra_conformance.controls.areas import judges_budgets, prefix, title
from infra_conformance.controls.metadata import SEVERITIES
from infra_conformance.engine.platforms import describe as platforms_line
from infra_conformance.measure.budgets import API_P95, LOAD_MEMORY, STARTUP, describe
from infra_conformance.report.markdown import compose_profiles_line, not_run, waiver_rows
from infra_conformance.report.summary import OUTCOMES

OUTCOME_CLASS = {"failed": "fail", "passed": "pass"}

STYLE = """<style>
.cf{font-family:system-ui,sans-serif;color:#1b1f23;max-width:1100px}
.cf .banner{padding:14px 18px;border-radius:6px;color:#fff;margin:8px 0 12px}
.cf .banner.passed{background:#1f7a3a}.cf .banner.failed{background:#b3261e}.cf .banner.none{background:#6a6a6a}
.cf .banner.partial{background:#8a5a00}
.cf .banner h1{margin:0 0 6px;font-size:26px;color:#fff}.cf .banner p{margin:2px 0;font-size:13px;color:#fff}
.cf .tiles{display:flex;flex-wrap:wrap;gap:8px;margin:10px 0}
.cf .tile{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;min-width:80px;text-align:center}
.cf .tile b{display:block;font-size:22px}.cf .tile.failed b,.cf .tile.critical b{color:#b3261e}
.cf .tile.passed b{color:#1f7a3a}
.cf table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 14px}
.cf th,.cf td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}
.cf th{background:#f6f8fa}.cf .fail{color:#b3261e;font-weight:bold}.cf .pass{color:#1f7a3a}
.cf .finding{border-left:5px solid #b3261e;padding:6px 10px;margin:8px 0;background:#fdf3f2}
.cf .finding.medium{border-color:#d97706;background:#fff8ec}.cf .finding.low{border-color:#6a6a6a;background:#f6f8fa}
.cf code,.cf pre{background:#f6f8fa;font-size:12px}.cf pre{white-space:pre-wrap;max-height:300px;overflow:auto}
.cf .sev{font-size:11px;text-transform:uppercase;padding:1px 5px;border-radius:3px;background:#eee}
.cf .plots svg{max-width:100%;height:auto}
.cf .cf-filter>label{margin-right:10px;font-size:13px}.cf .areas{margin-top:6px}
""" + "".join(f".cf #f-{o}:not(:checked)~.areas .{o}{{display:none}}" for o in OUTCOMES) \
  + "".join(f".cf #s-{s}:not(:checked)~.areas .{s}{{display:none}}" for s in SEVERITIES) + """
@media print{.cf .cf-filter>input,.cf .cf-filter>label{display:none}
.cf details{display:block}.cf details>*{display:block}
#results-table,.summary__data .controls,.filter,.run-count,#environment-header,#environment{display:none}
.cf .finding,.cf table{page-break-inside:avoid}}
</style>"""


def _ratio(budget: dict) -> str:
    return f"{budget['measured'] / budget['limit']:.0%}" if budget["limit"] else ""


def banner(summary: dict, versions: dict) -> str:
    stack, verdict = summary["stack"], summary["verdict"]
    css = {"passed": "passed", "partial": "partial", "failed": "failed"}.get(verdict, "none")
    facts = [("stack", stack["name"]), ("compose profile", stack.get("compose_profile")),
             ("architecture", stack["arch"]), ("Pi emulation", "on" if stack.get("pi_emulation") else "off"),
             ("platforms", platforms_line(summary)), ("compose profiles", compose_profiles_line(summary)),
             ("not run", not_run(summary).replace(" did not run:", ":")),
             *[(k.replace("_", " "), v) for k, v in versions.items() if v]]
    return (f'<div class="banner {css}"><h1>Conformance: {escape(summary["verdict_line"])}</h1>'
            + "".join(f"<p><b>{escape(k)}</b>: {escape(str(v))}</p>" for k, v in facts if v) + "</div>")


def tiles(summary: dict) -> str:
    counts = [(o.replace("_", " "), summary["totals"].get(o, 0)) for o in OUTCOMES]
    counts += [(f"failed {s}", summary["failed_by_severity"].get(s, 0)) for s in SEVERITIES]
    return '<div class="tiles">' + "".join(
        f'<div class="tile {escape(name.split()[-1])}"><b>{n}</b>{escape(name)}</div>' for name, n in counts) + "</div>"


def changes(delta: dict | None) -> str:
    """What changed since the baseline: new failures, fixes and budget deltas."""
    if delta is None:
        return ""
    rows = [f"<li class=fail>newly failing: {escape(c)}</li>" for c in delta["new_failures"]]
    rows += [f"<li class=pass>fixed: {escape(c)}</li>" for c in delta["fixed"]]
    rows += [f"<li>{escape(name)}: {d['baseline']:g} → {d['measured']:g} ({d['change_percent']:+.0f} %)</li>"
             for name, d in delta["budgets"].items()]
    return (f"<h2>Since the baseline ({escape(delta['baseline'])})</h2><ul>"
            + ("".join(rows) or "<li>no change</li>") + "</ul>")


def _references(references: list[str]) -> str:
    return "; ".join(f'<a href="{escape(r)}">{escape(r)}</a>' if r.startswith("https://") else escape(r)
                     for r in references)


def failures(summary: dict, logs: dict[str, list[tuple[str, str]]]) -> str:
    failed = sorted((c for c in summary["controls"] if c["outcome"] == "failed"),
                    key=lambda c: (SEVERITIES.index(c["severity"]), c["id"], c["nodeid"]))
    if not failed:
        return "<h2>Failures</h2><p>None.</p>"
    parts = ["<h2>Failures, most severe first</h2>"]
    for c in failed:
        attached = "".join(f"<details><summary>{escape(name)}</summary><pre>{escape(text)}</pre></details>"
                           for name, text in logs.get(c["nodeid"], []))
        case = f" [{escape(c['case'])}]" if c["case"] else ""
        parts.append(
            f'<div class="finding {escape(c["severity"])}"><b>{escape(c["id"])}</b>{case} '
            f'<span class="sev">{escape(c["severity"])}</span> {escape(c["title"])}'
            f'<br><b>Found</b>: {escape(c["message"] or "")}<br><b>Fix</b>: {escape(c.get("fix", ""))}'
            f'<br><b>References</b>: {_references(c.get("references", []))}{attached}</div>')
    return "".join(parts)


def budgets(summary: dict, delta: dict | None) -> str:
    if not summary["budgets"]:
        skipped = sorted({c["message"] for c in summary["controls"] if judges_budgets(c["id"])
                          and c["outcome"] not in ("passed", "failed") and c.get("message")})
        why = f" Not checked or not applicable: {escape('; '.join(skipped))}." if skipped else ""
        return f"<h2>Budgets</h2><p>No budget ran in this run.{why}</p>"
    deltas = (delta or {}).get("budgets", {})
    changed = {name: f"{d['change_percent']:+.0f} %" for name, d in deltas.items()}
    rows = "".join(
        f"<tr><td>{escape(b['name'])}</td><td>{b['measured']:g} {escape(b['unit'])}</td>"
        f"<td>{b['limit']:g} {escape(b['unit'])}</td><td>{_ratio(b)}</td>"
        f"<td class={'pass' if b['passed'] else 'fail'}>{escape(b['result'])}</td>"
        f"<td>{escape(describe(b['conditions']))}</td><td>{changed.get(b['name'], '')}</td></tr>"
        for b in summary["budgets"])
    return ("<h2>Budgets</h2><table><tr><th>budget</th><th>measured</th><th>limit</th><th>ratio</th>"
            f"<th>result</th><th>conditions</th><th>since baseline</th></tr>{rows}</table>")


def gaps(summary: dict) -> str:
    """What this run did not check, by control, and the waivers: each with its reason."""
    found = (summary.get("coverage") or {}).get("not_fully_checked", [])
    parts = []
    if found:
        rows = "".join(f"<tr><td>{escape(g['id'])}</td><td>{len(g['cases'])}</td>"
                       f"<td>{escape('; '.join(sorted({c['reason'] for c in g['cases']})))}</td></tr>" for g in found)
        parts.append(f"<details><summary><b>Not checked in this run</b>: {len(found)} controls</summary>"
                     f"<table><tr><th>ID</th><th>cases</th><th>why</th></tr>{rows}</table></details>")
    if rows := waiver_rows(summary):
        parts.append("<h2>Waivers</h2><table><tr><th>case</th><th>state</th><th>reason</th><th>expires</th></tr>"
                     + "".join(f"<tr><td>{escape(case)}</td><td>{escape(state)}</td><td>{escape(reason)}</td>"
                               f"<td>{escape(expires)}</td></tr>" for case, state, reason, expires in rows)
                     + "</table>")
    return "".join(parts)


def controls(summary: dict) -> str:
    """Every control, grouped by area; areas without failures collapsed; filterable by outcome and severity."""
    boxes = "".join(f'<input type="checkbox" id="f-{o}" checked><label for="f-{o}">{o.replace("_", " ")}</label>'
                    for o in OUTCOMES)
    boxes += "".join(f'<input type="checkbox" id="s-{s}" checked><label for="s-{s}">{s}</label>' for s in SEVERITIES)
    areas = []
    ordered = sorted(summary["controls"], key=lambda c: (prefix(c["id"]), c["id"], c["nodeid"]))
    for area, group in groupby(ordered, key=lambda c: prefix(c["id"])):
        group = list(group)
        failed = sum(c["outcome"] == "failed" for c in group)
        rows = "".join(
            f'<tr class="{c["outcome"]} {escape(c["severity"])}"><td>{escape(c["id"])}</td>'
            f'<td>{escape(c["case"] or "")}</td><td>{escape(c["severity"])}</td>'
            f'<td class="{OUTCOME_CLASS.get(c["outcome"], "")}">{c["outcome"].replace("_", " ")}</td>'
            f'<td>{escape(c["title"])}</td>'
            f'<td>{escape(c["message"] or _measured(c))}</td></tr>' for c in group)
        areas.append(f"<details{' open' if failed else ''}><summary><b>{escape(title(area))}</b>: "
                     f"{len(group)} case{'s' * (len(group) != 1)}, {failed} failed</summary>"
                     "<table><tr><th>ID</th><th>case</th>"
                     f"<th>severity</th><th>outcome</th><th>title</th><th>message or measured</th></tr>{rows}"
                     "</table></details>")
    return (f'<h2>Every control</h2><div class="cf-filter">{boxes}<div class="areas">'
            + "".join(areas) + "</div></div>")


def _measured(control: dict) -> str:
    """What a case recorded, e.g. ``rows_compared: 1490``; an empty list reads "none".

    >>> _measured({"measured": {"hostile_inputs": 312, "unrepeated_connections": []}})
    'hostile_inputs: 312; unrepeated_connections: none'
    """
    return "; ".join(f"{name}: {', '.join(map(str, value)) or 'none' if isinstance(value, list) else value}"
                     for name, value in (control.get("measured") or {}).items())


def plots_for(summary: dict) -> list[str]:
    """Start-up, and memory, latency and CPU over the load run, where the run measured them."""
    if not summary["budgets"] and not summary.get("load"):
        return []  # nothing to draw: spare the import of matplotlib (0.7 s of CPU)
    from infra_conformance.report import plots

    drawn, limits = [], {b["name"]: b["limit"] for b in summary["budgets"]}
    if summary["stack"].get("startup_s") and STARTUP.name in limits:
        drawn.append(plots.startup_waterfall(summary["stack"]["startup_s"], limits[STARTUP.name]))
    load = summary.get("load") or {}
    if load.get("memory_mib"):
        drawn.append(plots.series_plot("Memory per service under load", "MiB", load["memory_mib"],
                                       limits.get(LOAD_MEMORY.name), "budget (all services)"))
    if load.get("latency"):
        rows = load["latency"]
        drawn.append(plots.series_plot("Latency under load", "ms", {
            "p50": [[r[0], r[3]] for r in rows], "p95": [[r[0], r[4]] for r in rows],
            "p99": [[r[0], r[5]] for r in rows]}, limits.get(API_P95.name), "p95 budget"))
        drawn.append(plots.series_plot("Throughput under load", "requests/s",
                                       {"requests/s": [[r[0], r[2]] for r in rows]}))
    if load.get("cpu_host_cores"):
        drawn.append(plots.series_plot("CPU per service under load", "host cores", load["cpu_host_cores"]))
    return drawn


def page(summary: dict, versions: dict, plots: list[str], logs: dict, delta: dict | None,
         locust_report: str | None) -> str:
    """The whole reviewer's section, top to bottom."""
    plot_html = ("<h2>Plots</h2><div class=plots>" + "".join(plots) + "</div>") if plots else ""
    locust = (f'<p>Load generator: <a href="{escape(locust_report)}">locust\'s own report</a></p>'
              if locust_report else "")
    return (STYLE + '<div class="cf">' + banner(summary, versions) + tiles(summary) + gaps(summary) + changes(delta)
            + failures(summary, logs) + budgets(summary, delta) + plot_html + locust + controls(summary) + "</div>")

"""``conformance.sarif``: failed controls as SARIF 2.1.0, for GitHub code scanning."""

from __future__ import annotations

import hashlib
from pathlib import Path

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def rule(control: dict) -> dict:
    """A SARIF rule from a control entry of summary.json."""
    links = [r for r in control.get("references", []) if r.startswith("https://")]
    help_text = f"{control.get('fix', '')}\nReferences: {'; '.join(control.get('references', []))}"
    found = {"id": control["id"], "name": control["id"].replace("-", ""),
             "shortDescription": {"text": control["title"]}, "fullDescription": {"text": control["title"]},
             "help": {"text": help_text, "markdown": f"**Fix:** {control.get('fix', '')}\n\n"
                      + "\n".join(f"- {r}" for r in control.get("references", []))},
             "defaultConfiguration": {"level": LEVEL[control["severity"]]},
             "properties": {"security-severity": SECURITY_SEVERITY[control["severity"]],
                            "tags": ["security", "infrastructure", *control["claims"]]}}
    if links:
        found["helpUri"] = links[0]
    return found


def location(control: dict, compose_file: Path, root: Path) -> dict:
    """The line of the compose file that defines the case's service, or the file's first line."""
    line = 1
    service = control.get("service") or control.get("case") or ""
    for number, text in enumerate(compose_file.read_text().splitlines(), start=1) if compose_file.is_file() else ():
        if text.strip() == f"{service}:" and text.startswith("  ") and not text.startswith("   "):
            line = number
            break
    uri = compose_file.resolve().relative_to(root) if compose_file.resolve().is_relative_to(root) else compose_file
    return {"physicalLocation": {"artifactLocation": {"uri": str(uri)}, "region": {"startLine": line}}}


def sarif(summary: dict, compose_file: Path, root: Path, version: str = "0.1.0") -> dict:
    """SARIF for every failed control, and for every waived one as a suppression with its justification; rules for
    every control that ran."""
    controls = summary["controls"]
    rules = {c["id"]: rule(c) for c in controls}
    results = [{
        "ruleId": c["id"], "level": LEVEL[c["severity"]],
        "message": {"text": f"{c['id']} {c['title']} {c['message'] or ''}".strip()},
        "partialFingerprints": {"conformanceCase/v1": hashlib.sha256(
            f"{summary['stack']['name']}|{c['id']}|{c['case'] or ''}".encode()).hexdigest()},
        "locations": [location(c, compose_file, root)],
        **({"suppressions": [{"kind": "external", "status": "accepted", "justification": c["message"] or ""}]}
           if c["outcome"] == "waived" else {}),
    } for c in controls if c["outcome"] in ("failed", "waived")]
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "infra-conformance", "version": version,
                            "rules": list(rules.values())}},
        "results": results}]}

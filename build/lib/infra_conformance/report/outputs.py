"""The reports folder: what a run writes there, and a manifest so that the next run removes only that.

    >>> is_output("locust_stats.csv"), is_output("summary.json"), is_output("notes.txt")
    (True, True, False)
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from infra_conformance.report.markdown import markdown
from infra_conformance.report.sarif import sarif

MANIFEST = ".conformance-outputs.json"
NAMES = ("summary.json", "summary.md", "conformance.sarif", "junit.xml", "report.html", "logs")
PREFIXES = ("locust",)


def is_output(name: str) -> bool:
    """A name the suite may write in a reports folder; only such names ever enter the manifest."""
    return name in NAMES or name.startswith(PREFIXES)


def present(directory: Path) -> dict[str, float]:
    """The output names in the folder now, with their modification times."""
    if not directory.is_dir():
        return {}
    return {path.name: path.lstat().st_mtime for path in directory.iterdir() if is_output(path.name)}


def remove_previous(directory: Path) -> None:
    """Remove what the manifest says an earlier run wrote here; leave everything else, the user's files too."""
    manifest = directory / MANIFEST
    try:
        listed = json.loads(manifest.read_text())["outputs"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    for name in listed if isinstance(listed, list) else []:
        path = directory / str(name)
        if not is_output(path.name) or path.parent != directory:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    manifest.unlink(missing_ok=True)


def record(directory: Path, before: dict[str, float]) -> None:
    """List in the manifest the outputs this run wrote: new since ``before``, or rewritten since."""
    written = sorted(name for name, mtime in present(directory).items() if before.get(name) != mtime)
    if written:
        (directory / MANIFEST).write_text(json.dumps({"outputs": written}, indent=2) + "\n")


def write(directory: Path, summary: dict, compose_file: Path, root: Path) -> None:
    """summary.json, summary.md (also appended once to ``$GITHUB_STEP_SUMMARY``) and conformance.sarif."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    text = markdown(summary)
    (directory / "summary.md").write_text(text)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a") as step_summary:
            step_summary.write(text)
    (directory / "conformance.sarif").write_text(json.dumps(sarif(summary, compose_file, root), indent=2) + "\n")

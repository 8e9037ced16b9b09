"""One stack for several pytest processes: a lock to boot it once, and a note of what the booting one made."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from infra_conformance.errors import EnvironmentProblem, Problem, StackFinding, UsageProblem

KINDS = {kind.__name__: kind for kind in (UsageProblem, EnvironmentProblem, StackFinding)}


@dataclass(frozen=True)
class Share:
    """A compose project that pytest-xdist's workers check together, and a private folder for its note.

    >>> import tempfile
    >>> share = Share("conformance-1", Path(tempfile.mkdtemp()))
    >>> share.add(run_dir="/tmp/x"); share.add(booted=True); share.note()
    {'run_dir': '/tmp/x', 'booted': True}
    >>> share.add_problem(EnvironmentProblem("no engine")); share.problem()
    EnvironmentProblem('no engine')
    """

    project: str
    folder: Path

    def lock(self) -> FileLock:
        """Held by the worker that boots the stack, until it is up or that worker has failed."""
        return FileLock(self.folder / "boot.lock")

    def note(self) -> dict:
        path = self.folder / "note.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def add(self, **facts) -> None:
        """Add to the note, atomically: a reader sees the old note or the new one."""
        temporary = self.folder / "note.json.new"
        temporary.write_text(json.dumps({**self.note(), **facts}))
        os.replace(temporary, self.folder / "note.json")

    def add_problem(self, problem: Problem) -> None:
        """The booting worker's problem, for the others to end with the same line and exit code."""
        where = {"control": problem.control, "case": problem.case} if isinstance(problem, StackFinding) else {}
        self.add(problem={"kind": type(problem).__name__, "line": str(problem), **where})

    def problem(self) -> Problem | None:
        found = self.note().get("problem")
        if not found:
            return None
        kind = KINDS.get(found["kind"], EnvironmentProblem)
        if kind is StackFinding:
            return StackFinding(found["line"], found["control"], found["case"])
        return kind(found["line"])

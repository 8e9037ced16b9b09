"""The run's summary as typed records: each case's outcome, the coverage, and the verdict that follows from them.

The plugins only collect into it; ``summary.json``, ``summary.md``, SARIF and the HTML report are rendered
from ``Summary.as_dict()``, whose shape ``docs/summary.schema.json`` describes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SCHEMA_VERSION = 2
# passed and failed on evidence; waived: failed under a waiver; not_applicable: the profile says the stack has no
# such part (the reason names the key); not_checked: promised, but this run did not look (deselected, left out,
# or skipped for any other reason).
OUTCOMES = ("passed", "failed", "waived", "not_applicable", "not_checked")
NOT_APPLICABLE = "not applicable ("


def not_applicable(key: str, text: str) -> str:
    """The skip reason of a case that the profile says does not apply, naming the profile key that says so.

    >>> not_applicable("postgres.audit_table", "the profile names no audit table")
    'not applicable (postgres.audit_table): the profile names no audit table'
    """
    return f"{NOT_APPLICABLE}{key}): {text}"


def skip_outcome(reason: str | None) -> str:
    """What a skipped case counts as: not applicable only when its reason names the profile key.

    >>> skip_outcome(not_applicable("redis", "the profile has no [redis] section"))
    'not_applicable'
    >>> skip_outcome("the stack runs emulated, so budgets are not judged")
    'not_checked'
    """
    return "not_applicable" if (reason or "").startswith(NOT_APPLICABLE) else "not_checked"


@dataclass
class Case:
    """One case of a control: ``outcome`` stays None until a report decides it (a case interrupted is not run)."""

    id: str
    title: str
    severity: str
    claims: list[str]
    nodeid: str
    fix: str = ""
    references: list[str] = field(default_factory=list)
    outcome: str | None = None
    message: str | None = None
    measured: dict = field(default_factory=dict)
    waiver: dict | None = None

    @property
    def case(self) -> str | None:
        return self.nodeid.partition("[")[2].rstrip("]") or None

    def as_dict(self) -> dict:
        found = {**asdict(self), "case": self.case}
        return {key: value for key, value in found.items() if value or key in ("case", "message", "outcome")}


def compose_profiles(services_of: dict[str, set[str]], booted: str | None, checked: set[str]) -> dict:
    """Which promised compose profiles this run proved: the booted one, and each whose services beyond the booted
    one's were all started and checked by a control (``checked``); ``services_of`` maps each promised profile,
    and the booted one (None: no profile), to the long-running services it starts.

    >>> compose_profiles({None: {"db", "api"}, "prod": {"db", "api"}, "test": {"db", "api", "db-test"},
    ...                   "dev": {"db", "api", "admin"}}, None, {"db-test"})
    {'booted': None, 'proven': ['prod', 'test'], 'not_proven': {'dev': ['admin']}}
    """
    running = services_of[booted]
    unchecked = {name: sorted(services - running - checked) for name, services in services_of.items()
                 if name is not None and name != booted}
    return {"booted": booted, "proven": sorted([*([booted] if booted else []), *(n for n, u in unchecked.items()
                                                                                   if not u)]),
            "not_proven": {name: left for name, left in sorted(unchecked.items()) if left}}


@dataclass
class Summary:
    """Everything a run found; the verdict and the coverage are derived, never stored apart."""

    cases: list[Case]
    stack: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    budgets: list[dict] = field(default_factory=list)
    load: dict | None = None
    platforms: dict | None = None
    compose_profiles: dict | None = None
    since_baseline: dict | None = None
    left_out: dict = field(default_factory=lambda: {"ids": [], "cases": 0})
    waivers: dict = field(default_factory=lambda: {"expired": [], "stale": []})

    @property
    def decided(self) -> list[Case]:
        return sorted((c for c in self.cases if c.outcome), key=lambda c: (c.id, c.nodeid))

    @property
    def totals(self) -> dict[str, int]:
        decided = self.decided
        return {outcome: sum(c.outcome == outcome for c in decided) for outcome in OUTCOMES}

    @property
    def not_run(self) -> int:
        """Cases that were to run and have no result: the run ended early, in the middle of a case or before it."""
        return sum(c.outcome is None for c in self.cases)

    @property
    def verdict(self) -> str:
        """``failed`` on a failure or an expired waiver; ``incomplete`` when a case did not run to its end;
        ``partial`` when something promised was not checked; ``passed`` only when everything was checked and held;
        ``no results`` when no case ran to a verdict."""
        totals = self.totals
        if not totals["passed"] + totals["failed"] + totals["waived"]:
            return "no results"  # nothing was looked at: never a pass
        if totals["failed"] or self.waivers["expired"]:
            return "failed"
        if self.not_run:
            return "incomplete"
        return "partial" if totals["not_checked"] else "passed"

    @property
    def verdict_line(self) -> str:
        """The one line a reviewer reads first.

        >>> Summary([Case("CTR-01", "t", "high", [], "s::t", outcome="passed"),
        ...          Case("CTR-02", "t", "high", [], "s::u", outcome="not_checked")]).verdict_line
        'PASSED (partial: 1 of 2 cases not checked)'
        """
        if self.verdict == "partial":
            return f"PASSED (partial: {self.totals['not_checked']} of {len(self.cases)} cases not checked)"
        return self.verdict.upper()

    @property
    def coverage(self) -> dict:
        """Counts per outcome, and for each control not fully checked, which cases and why."""
        gaps: dict[str, list[dict]] = {}
        for case in sorted(self.cases, key=lambda c: (c.id, c.nodeid)):
            if case.outcome in (None, "not_checked"):
                gaps.setdefault(case.id, []).append(
                    {"case": case.case, "outcome": case.outcome or "not_run",
                     "reason": case.message or "the run ended before this case had a result"})
        return {"cases": len(self.cases), "counts": {**self.totals, "not_run": self.not_run},
                "not_fully_checked": [{"id": id_, "cases": found} for id_, found in gaps.items()]}

    def failed_by_severity(self, severities: tuple[str, ...]) -> dict[str, int]:
        return {s: sum(c.outcome == "failed" and c.severity == s for c in self.decided) for s in severities}

    def as_dict(self, severities: tuple[str, ...] = ("critical", "high", "medium", "low")) -> dict:
        found = {
            "schema_version": SCHEMA_VERSION,
            "verdict": self.verdict,
            "verdict_line": self.verdict_line,
            "not_run": self.not_run,
            "left_out": self.left_out,
            "stack": self.stack,
            "versions": self.versions,
            "controls": [case.as_dict() for case in self.decided],
            "budgets": self.budgets,
            "totals": self.totals,
            "coverage": self.coverage,
            "waivers": self.waivers,
            "failed_by_severity": self.failed_by_severity(severities),
            "load": self.load,
        }
        if self.platforms is not None:
            found["platforms"] = self.platforms
        if self.compose_profiles is not None:
            found["compose_profiles"] = self.compose_profiles
        if self.since_baseline is not None:
            found["since_baseline"] = self.since_baseline
        return found

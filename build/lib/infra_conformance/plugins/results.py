"""Collects the run's results into the typed summary and writes ``summary.json``, ``summary.md`` and SARIF.

It reads the controls (``item.stash``), the stack, the budgets and the load run through
their plugins' typed keys; nothing below writes into it. A run first removes the outputs that
the previous run listed in the folder's manifest, so it never shows an older run's results
and never touches a file it did not write.
"""

from __future__ import annotations

import datetime
import platform
import shlex
import subprocess
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import pytest

from infra_conformance.controls.metadata import SEVERITIES, Control
from infra_conformance.engine.platforms import proven
from infra_conformance.plugins import workers
from infra_conformance.plugins.collection import CATALOGUE_KEY, CONTROL_KEY, METADATA_PROPERTIES
from infra_conformance.plugins.exits import FINDING_KEY
from infra_conformance.plugins.lifecycle import PROJECT_KEY, STACK_KEY
from infra_conformance.plugins.measuring import BUDGETS_KEY, LOAD_KEY
from infra_conformance.plugins.options import BASELINE_KEY, OPTIONS_KEY, PROFILE_KEY, WAIVERS_KEY
from infra_conformance.report import outputs, waivers
from infra_conformance.report.baseline import compare
from infra_conformance.report.summary import Case, Summary, compose_profiles, skip_outcome


class Collector:
    """Collects every case's outcome into the typed summary, and writes it with the budgets at the end.

    Under pytest-xdist, each worker hands its part to the controller (``workeroutput``), which writes
    the one summary of the run.
    """

    def __init__(self, config):
        self.config = config
        self.controls_of: dict = {}
        self.cases: dict[str, Case] = {}  # every case of a collected control, selected or not, by node ID
        self.logs: dict[str, list[tuple[str, str]]] = {}
        self.parts: list[dict] = []  # on xdist's controller: each worker's part
        self.left_out = {"ids": [], "cases": 0}  # on xdist's controller: what the workers left out (fixtures.workers)
        self.before: dict[str, float] | None = None  # the outputs in the reports folder once the old ones are gone

    def pytest_sessionstart(self, session):
        if workers.is_controller(self.config) and not self.config.option.collectonly:  # workers write nothing
            self._clear_reports()

    def _clear_reports(self) -> None:
        directory = self.config.stash[OPTIONS_KEY].reports_dir
        outputs.remove_previous(directory)
        self.before = outputs.present(directory)

    def pytest_unconfigure(self, config):
        """Once junit.xml and report.html are written too: list in the manifest what this run wrote."""
        if self.before is not None:
            outputs.record(self.config.stash[OPTIONS_KEY].reports_dir, self.before)

    @pytest.hookimpl(trylast=True)
    def pytest_deselected(self, items):
        """A case that --control, -m or -k left out was promised but not checked in this run."""
        for item in items:
            if CONTROL_KEY in item.stash:
                case = self.cases.setdefault(item.nodeid, _case(item.nodeid, item.stash[CONTROL_KEY]))
                case.outcome, case.message = "not_checked", "not checked: deselected in this run"

    def pytest_collection_finish(self, session):
        self.controls_of = {item.nodeid: item.stash[CONTROL_KEY] for item in session.items if CONTROL_KEY in item.stash}
        for nodeid, control in self.controls_of.items():
            self.cases.setdefault(nodeid, _case(nodeid, control))
        if self.controls_of and not self.config.option.collectonly and not hasattr(self.config, "workerinput"):
            self._clear_reports()

    def pytest_runtest_logreport(self, report):
        if report.nodeid not in self.controls_of:
            return
        case = self.cases[report.nodeid]
        if measured := {name: _plain(value) for name, value in report.user_properties
                        if name not in METADATA_PROPERTIES}:
            case.measured = measured  # record_property: rows compared, inputs sent, connections not repeated
        if report.failed:
            case.outcome, case.message = "failed", _first_line(report)
            self.logs[report.nodeid] = [(name, text) for name, text in report.sections
                                        if name.startswith("logs of service")]
        elif report.skipped and case.outcome != "failed":
            reason = _skip_reason(report)
            waived = (reason or "").startswith(waivers.WAIVED)
            case.outcome, case.message = "waived" if waived else skip_outcome(reason), reason
        elif report.when == "call" and case.outcome is None:
            case.outcome = "passed"

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        output = getattr(node, "workeroutput", {})
        if part := output.get(PART_OUTPUT):
            self.parts.append(part)
            for found in part["cases"]:  # a worker's decided case wins over another's not-checked copy of it
                case = Case(**found)
                if case.outcome not in (None, "not_checked") or case.nodeid not in self.cases:
                    self.cases[case.nodeid] = case
            self.logs.update({nodeid: [tuple(log) for log in logs] for nodeid, logs in part["logs"].items()})
        if left_out := output.get(workers.ALONE_OUTPUT):
            self.left_out = {"ids": left_out["ids"], "cases": len(left_out["nodeids"])}
            for nodeid in left_out["nodeids"]:
                if nodeid in self.cases:
                    self.cases[nodeid].message = "not checked: it needs the stack alone, and -n shares it"

    def pytest_sessionfinish(self, session):
        if not self.cases or self.config.option.collectonly:
            return
        if finding := self.config.stash.get(FINDING_KEY, None):
            self._record_finding(finding)
        if hasattr(self.config, "workerinput"):
            self.config.workeroutput[PART_OUTPUT] = self._part()
            return
        self._write(self.parts or [self._part()])
        found = self.config.stash[SUMMARY_KEY].summary
        gap = self.config.stash[OPTIONS_KEY].require_complete and found["verdict"] != "passed"
        if session.exitstatus == 0 and (found["waivers"]["expired"] or gap):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # an expired waiver; --require-complete and a gap

    def _part(self) -> dict:
        """What this process saw and measured, in plain values."""
        return {"cases": [asdict(case) for case in self.cases.values()], "logs": self.logs,
                "stack": _stack_section(self.config), "versions": _versions(self.config),
                "budgets": [budget.as_dict() for budget in self.config.stash.get(BUDGETS_KEY, [])],
                "load": self.config.stash.get(LOAD_KEY, None)}

    def _write(self, parts: list[dict]) -> None:
        booted = max(parts, key=lambda part: bool(part["stack"]["startup_s"]))  # the process that booted it
        summary = Summary(list(self.cases.values()), booted["stack"], booted["versions"],
                          [budget for part in parts for budget in part["budgets"]],
                          next((part["load"] for part in parts if part["load"]), None), left_out=self.left_out)
        if platform_run := booted["stack"]["platform"]:
            evidence = [c.outcome for c in summary.cases if self._proves(c.id) == "platform"]
            summary.platforms = proven(self.config.stash[PROFILE_KEY].stack.platforms, platform_run, evidence)
        if promised := self.config.stash[PROFILE_KEY].compose_profiles:
            summary.compose_profiles = self._compose_profiles(promised, summary)
        given = self.config.stash.get(WAIVERS_KEY, ())
        summary.waivers = waivers.review(given, {(c.id, c.case): c.outcome for c in summary.decided},
                                         datetime.date.today())
        if BASELINE_KEY in self.config.stash:
            summary.since_baseline = compare(summary.as_dict(SEVERITIES), self.config.stash[BASELINE_KEY],
                                             str(self.config.stash[OPTIONS_KEY].baseline))
        found = summary.as_dict(SEVERITIES)
        self.config.stash[SUMMARY_KEY] = Results(found, self.logs)
        directory = self.config.stash[OPTIONS_KEY].reports_dir
        compose_file = self.config.stash[PROFILE_KEY].compose_files[0]
        outputs.write(directory, found, compose_file, Path(self.config.rootpath))

    def _compose_profiles(self, promised, summary: Summary) -> dict:
        profile = self.config.stash[PROFILE_KEY]
        long_running = {name: service for name, service in profile.every_service.items() if not service.job}
        services_of = {name: {s for s, service in long_running.items() if profile.runs_in(service, name)}
                       for name in (*promised, profile.compose_profile)}
        checked = {c.case for c in summary.cases if c.outcome == "passed" and self._proves(c.id) == "compose profile"}
        return compose_profiles(services_of, profile.compose_profile, checked)

    def _proves(self, control_id: str) -> str:
        known = self.config.stash.get(CATALOGUE_KEY, {}).get(control_id)
        return known.proves if known else ""

    def _record_finding(self, finding) -> None:
        """A stack that did not start fails the control that judges a healthy start, for the case it names."""
        catalogue = self.config.stash.get(CATALOGUE_KEY, {})
        control = catalogue.get(finding.control) or Control(finding.control, "high", (), finding.control, "")
        nodeid = next((n for n, c in self.cases.items() if c.id == control.id and n.endswith(f"[{finding.case}]")),
                      f"{control.id}[{finding.case}]")
        case = self.cases.setdefault(nodeid, _case(nodeid, control))
        case.outcome, case.message = "failed", str(finding)

    def pytest_terminal_summary(self, terminalreporter):
        results = self.config.stash.get(SUMMARY_KEY, None)
        if results is None:
            return
        found = results.summary
        if found["verdict"] == "no results":
            terminalreporter.write_line("conformance: no control ran in this run, so there are no results to show")
            return
        for waiver in found["waivers"]["expired"]:
            terminalreporter.write_line(f"conformance: the waiver for {_label(waiver)} expired on "
                                        f"{waiver['expires']}: fix the cause, or renew it with a new date")
        terminalreporter.write_line(f"conformance: {found['verdict_line']}")


@dataclass(frozen=True)
class Results:
    """What the HTML report shows: the summary, and the logs attached to each failed case."""

    summary: dict
    logs: dict[str, list[tuple[str, str]]]


SUMMARY_KEY = pytest.StashKey[Results]()
PART_OUTPUT = "conformance_summary"  # an xdist worker's part of the summary


def _case(nodeid: str, control: Control) -> Case:
    """A case undecided until a report says: a case passes only on its call phase's report, so one that a stop
    (exit 3) or a signal ended halfway is not run, never passed."""
    return Case(control.id, control.title, control.severity, list(control.claims), nodeid, control.fix,
                list(control.references))


def _label(waiver: dict) -> str:
    return waiver["control"] + (f"[{waiver['case']}]" if waiver.get("case") else "")


def _plain(value):
    """A recorded value as JSON can hold it: numbers, text, booleans and lists of them; anything else as text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return str(value)


def _versions(config) -> dict:
    """Engine and compose versions, the suite's version (and commit, run from a checkout), the checked stack's own
    revision, and the command line."""
    stack = config.stash.get(STACK_KEY, None)
    found = stack.versions() if stack else {}
    suite = Path(__file__).parents[1]
    commit = _revision(suite) if (suite / ".git").exists() else None
    found["suite"] = metadata.version("infra-conformance") + (f" ({commit})" if commit else "")
    found["stack_revision"] = _revision(config.stash[PROFILE_KEY].directory) or "none (not in a git repository)"
    found["command"] = shlex.join(["pytest", *config.invocation_params.args])
    return found


def _revision(folder: Path) -> str | None:
    """The short commit of the git checkout that holds ``folder``, ``-dirty`` when its files there changed."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""
    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return None
    return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no", "--", ".") else "")


def _stack_section(config) -> dict:
    stack = config.stash.get(STACK_KEY, None)
    return {
        "name": config.stash[PROFILE_KEY].name,
        "compose_profile": config.stash[PROFILE_KEY].compose_profile,
        "project": stack.project if stack else config.stash.get(PROJECT_KEY, None),
        "compose_files": stack.compose_files if stack else [],
        "arch": stack.platform.arch if stack else platform.machine(),
        "platform": stack.platform.platform if stack else None,
        "emulated_arch": bool(stack and stack.platform.emulated),
        "host_arch": platform.machine(),
        "pi_emulation": bool(stack and stack.conditions.get("pi_emulation")),
        "emulation": stack.conditions if stack else {},
        "build_s": round(stack.build_s, 2) if stack else None,
        "startup_s": stack.startup_s if stack else {},
    }



def pytest_configure(config):
    config.pluginmanager.register(Collector(config), "conformance-summary")


def _first_line(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash else str(report.longrepr)
    return text.splitlines()[0].removeprefix("AssertionError: ")[:500] if text else ""


def _skip_reason(report) -> str | None:
    return report.longrepr[2].removeprefix("Skipped: ") if isinstance(report.longrepr, tuple) else None

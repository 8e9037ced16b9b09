"""Waivers: a failure that a live waiver covers is reported as waived (skipped in JUnit, with the reason), and a
waiver that names no control or case of the suite is bad input (exit 4)."""

from __future__ import annotations

import datetime

import pytest

from infra_conformance.plugins.collection import CASES_KEY, CONTROL_KEY
from infra_conformance.plugins.options import WAIVERS_KEY
from infra_conformance.report import waivers


def pytest_collection_finish(session):
    given = session.config.stash.get(WAIVERS_KEY, ())
    if given and (wrong := waivers.unknown(given, session.config.stash.get(CASES_KEY, {}))):
        raise pytest.UsageError(f"conformance: waiver {wrong[0]}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed case under a live waiver still ran; it is reported as waived, with the reason and the expiry."""
    report = yield
    given = item.config.stash.get(WAIVERS_KEY, ())
    if report.failed and given and CONTROL_KEY in item.stash:
        case = item.nodeid.partition("[")[2].rstrip("]") or None
        if waiver := waivers.live_for(given, item.stash[CONTROL_KEY].id, case, datetime.date.today()):
            crash = getattr(report.longrepr, "reprcrash", None)
            found = (crash.message if crash else str(report.longrepr)).splitlines()[0] if report.longrepr else ""
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1] or 0, waivers.reason_line(waiver, found[:300]))
    return report

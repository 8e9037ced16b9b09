"""The HTML report for reviewers, on pytest-html's hooks: verdict first, fixes beside failures, every value escaped.

pytest-html renders test IDs and its environment table as raw HTML, so both are escaped
here; the reviewer's section (``infra_conformance.report.review``) escapes what it shows.
"""

from __future__ import annotations

import html

import pytest

from infra_conformance.plugins.lifecycle import STACK_KEY
from infra_conformance.plugins.results import SUMMARY_KEY
from infra_conformance.report import review


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and STACK_KEY in item.config.stash and "stack" in getattr(item, "funcargs", {}):
        _attach_logs(item, report, item.config.stash[STACK_KEY])
    return report


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report):
    report.title = "Conformance report"


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix, summary, postfix, session):
    """The reviewer's section, above pytest-html's own table of every test."""
    results = session.config.stash.get(SUMMARY_KEY, None)
    if results is None:
        return
    found = results.summary
    prefix.append(review.page(found, found.get("versions", {}), review.plots_for(found), results.logs,
                              found.get("since_baseline"), "locust.html" if found.get("load") else None))


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report, cells):
    """pytest-html puts the test ID in the table as raw HTML; a profile value in it must stay text."""
    test_id = report.nodeid + (f"::{report.when}" if report.when != "call" else "")
    cells[1] = f'<td class="col-testId">{html.escape(test_id)}</td>'


@pytest.hookimpl(optionalhook=True)
def pytest_metadata(metadata):
    """pytest-html shows the environment table as raw HTML: keep Python and the platform, escaped
    (the banner has the rest)."""
    kept = {key: _escaped(value) for key, value in metadata.items() if key in ("Python", "Platform")}
    metadata.clear()
    metadata.update(kept)


def _escaped(value):
    if isinstance(value, dict):
        return {html.escape(str(k)): _escaped(v) for k, v in value.items()}
    return html.escape(str(value))


def _attach_logs(item, report, stack) -> None:
    """Attach the logs of the failing case's service and of every unhealthy service."""
    services = set(stack.unhealthy_services())
    callspec = getattr(item, "callspec", None)
    if callspec and isinstance(callspec.params.get("service"), str):
        services.add(callspec.params["service"])
    has_html = item.config.pluginmanager.has_plugin("html")
    for name in sorted(services):
        logs = stack.logs(name)
        report.sections.append((f"logs of service {name}", logs))
        if has_html:
            from pytest_html import extras
            report.extras = [*getattr(report, "extras", []), extras.text(logs, name=f"{name} logs")]



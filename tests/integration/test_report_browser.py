"""The report in a real browser (Debian's chromium): no console error, no network request, and what a
reviewer needs is there, on a green run and on a failing one. Screenshots go to reports/."""

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT

MUTANT = ROOT / "tests" / "mutants" / "ctr-root-and-exposed"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing; scripts/ensure-tools.sh installs it"
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        yield launched
        launched.close()


def _open(browser, report: Path, screenshot: Path):
    """The report's page, and the console errors and network requests it made."""
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    errors, requests = [], []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: request.url != report.as_uri() and not request.url.startswith("data:")
            and requests.append(request.url))
    page.goto(report.as_uri(), wait_until="load")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)
    return page, errors, requests


@pytest.mark.slow
def test_green_report_in_a_browser(run_suite, browser, pytestconfig):
    run = run_suite("--control", "CTR-0*,BUD-01,BUD-02,API-01", "--pi-emulation", "off")
    assert run.returncode == 0, run.tail()
    shot = Path(pytestconfig.getoption("reports_dir")) / "report.png"
    page, errors, requests = _open(browser, run.reports / "report.html", shot)
    assert not errors and not requests, (errors, requests)
    banner = page.locator(".cf .banner").inner_text()
    assert "Conformance: PASSED (partial: " in banner, banner  # --control left the other controls unchecked
    line = run.summary["verdict_line"]
    assert line in banner and line in (run.reports / "summary.md").read_text(), line
    assert page.locator(".cf h2", has_text="Budgets").count() == 1
    assert page.locator(".cf table tr", has_text="start-up").count() >= 1
    assert page.locator(".cf .plots svg").count() >= 1


@pytest.mark.slow
def test_failing_report_in_a_browser(run_suite, browser, pytestconfig):
    run = run_suite("--compose-file", str(MUTANT / "compose.yaml"), "--control", "CTR-01,NET-01,BUD-01",
                    "--pi-emulation", "off")
    assert run.returncode == 1, run.tail()
    shot = Path(pytestconfig.getoption("reports_dir")) / "report-failing.png"
    page, errors, requests = _open(browser, run.reports / "report.html", shot)
    assert not errors and not requests, (errors, requests)
    assert "Conformance: FAILED" in page.locator(".cf .banner").inner_text()
    first = page.locator(".cf .finding").first.inner_text()
    assert "CTR-01" in first and "Fix" in first and "References" in first, first
    assert page.locator(".cf .plots svg").count() >= 1

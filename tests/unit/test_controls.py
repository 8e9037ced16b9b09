"""The control-marker hook, run on small test files with pytester."""

import time

import pytest

from infra_conformance.engine.wait import WaitTimeout, wait_for

pytest_plugins = ["pytester"]

GOOD = '''
import pytest

@pytest.mark.control("CTR-07", severity="high", claims=["Z6"])
def test_one():
    """A title.

    Rationale: a reason.

    Fix: set `x: y`.

    References: CIS 5.1; https://example.test/doc
    """
'''


@pytest.fixture
def suite(pytester):
    pytester.makeconftest("pytest_plugins = ['fixtures.collection']\n"
                          "def pytest_configure(config):\n"
                          "    config.addinivalue_line('markers', 'control: a control')\n")
    return pytester


def test_metadata_reaches_junit(suite):
    suite.makepyfile(test_a=GOOD)
    result = suite.runpytest("--junitxml=out.xml", "-o", "junit_family=xunit1")
    result.assert_outcomes(passed=1)
    xml = (suite.path / "out.xml").read_text()
    assert 'name="control_id" value="CTR-07"' in xml and 'name="claims" value="Z6"' in xml
    assert 'name="fix" value="set `x: y`."' in xml and 'value="CIS 5.1; https://example.test/doc"' in xml


def test_duplicate_id_is_rejected(suite):
    suite.makepyfile(test_a=GOOD, test_b=GOOD.replace("test_one", "test_two"))
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*control ID CTR-07 is used by both test_a.test_one and test_b.test_two*"])


@pytest.mark.parametrize("change, message", [
    (('"CTR-07"', '"ctr7"'), "control ID 'ctr7' does not look like AREA-NN"),
    (('severity="high"', 'severity="urgent"'), "severity 'urgent' is not one of"),
    (('claims=["Z6"]', "claims=[]"), "control CTR-07 names no claims"),
    (("Rationale: a reason.", ""), "needs a docstring with a title and 'Rationale:'"),
    (("Fix: set `x: y`.", ""), "needs 'Fix:' and 'References:' paragraphs"),
    (("References: CIS 5.1; https://example.test/doc", ""), "needs 'Fix:' and 'References:' paragraphs"),
])
def test_incomplete_metadata_is_rejected(suite, change, message):
    suite.makepyfile(test_a=GOOD.replace(*change))
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_wait_for_polls_until_ready():
    calls = []

    def attempt():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("refused")
        return "up"
    assert wait_for(attempt, "service", poll_s=0.01) == "up"
    assert len(calls) == 3


def test_wait_for_times_out_with_hint():
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match=r"db not ready after 0.2 s: refused. Hint: read its logs"):
        wait_for(lambda: (_ for _ in ()).throw(ConnectionError("refused")), "db",
                 timeout_s=0.2, poll_s=0.05, hint="read its logs")
    assert time.monotonic() - started < 2


def test_catalogue_is_current():
    from pathlib import Path

    from infra_conformance.controls.catalogue import render

    docs = Path(__file__).parents[2] / "docs" / "controls.md"
    assert docs.read_text() == render(), (
        "docs/controls.md is stale: python -m infra_conformance.controls.catalogue > docs/controls.md")


def test_every_control_in_suites_passes_the_collection_checks():
    """What the collection hook refuses (exit 4 at the first `pytest suites`), refused by `make unit` too: an ID used
    twice, or a marker or docstring part missing. The generated catalogue renders such a control all the same, so a
    regenerated docs/controls.md does not catch it (issue 22)."""
    from collections import Counter

    from infra_conformance.controls.catalogue import controls
    from infra_conformance.controls.metadata import problems

    found = [control for _, control in controls()]
    assert [p for control in found for p in problems(control, control.id)] == []
    assert sorted(i for i, n in Counter(control.id for control in found).items() if n > 1) == [], "an ID used twice"


def test_a_control_is_selected_and_listed_by_its_id(suite):
    suite.makepyfile(test_a=GOOD, test_b=GOOD.replace("CTR-07", "NET-01").replace("test_one", "test_two"))
    result = suite.runpytest("-k", "NET-01")
    result.assert_outcomes(passed=1)
    listed = suite.runpytest("--co")
    listed.stdout.fnmatch_lines(["CTR-07  high     test_a.py::test_one", "NET-01  high     test_b.py::test_two"])

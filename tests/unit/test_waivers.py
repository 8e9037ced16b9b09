"""Waivers: the file's schema, unknown controls and cases, expiry and staleness; and the reports folder's manifest."""

import datetime
import json
import re
from pathlib import Path

import pytest

from infra_conformance.errors import UsageProblem
from infra_conformance.report import outputs, waivers

TODAY = datetime.date(2026, 12, 6)
FILE = '''
[[waiver]]
control = "CTR-01"        # an ID; required
case = "api"              # optional: one case of the control
reason = "vendor image runs as root until 2.0; tracked in OPS-12"   # required, non-empty
expires = 2027-03-31      # required, a TOML date
'''


def _load(tmp_path, text: str):
    path = tmp_path / "waivers.toml"
    path.write_text(text)
    return waivers.load(path)


def test_the_documented_file_loads(tmp_path):
    """The example in docs/usage.md, as written."""
    docs = (Path(__file__).parents[2] / "docs" / "usage.md").read_text()
    example = next(block for block in re.findall(r"```toml\n(.*?)```", docs, re.S) if "[[waiver]]" in block)
    assert example.strip() == FILE.strip()
    (waiver,) = _load(tmp_path, FILE)
    assert (waiver.label, waiver.expires) == ("CTR-01[api]", datetime.date(2027, 3, 31))
    assert waivers.live_for((waiver,), "CTR-01", "api", TODAY) == waiver
    assert waivers.live_for((waiver,), "CTR-01", "gateway", TODAY) is None


@pytest.mark.parametrize("text, said", [
    (FILE.replace('reason = "vendor image runs as root until 2.0; tracked in OPS-12"', 'reason = ""'), "reason"),
    (FILE.replace('reason = "vendor image runs as root until 2.0; tracked in OPS-12"', 'reason = "  "'), "reason"),
    (FILE.replace("expires = 2027-03-31", 'expires = "2027-03-31"'), "expires"),
    (FILE.replace("expires = 2027-03-31", ""), "missing key 'waiver[0].expires'"),
    (FILE.replace('control = "CTR-01"', 'control = "ctr-01"'), "control"),
    (FILE + "owner = 'x'\n", "unknown key 'waiver[0].owner'"),
    ("[waiver]\ncontrol = 1\n", "waiver"),
    ("nonsense", "not valid TOML"),
])
def test_a_bad_waiver_is_one_line(tmp_path, text, said):
    with pytest.raises(UsageProblem) as raised:
        _load(tmp_path, text)
    assert said in str(raised.value) and "\n" not in str(raised.value)


def test_unknown_controls_and_cases_are_named():
    given = (waivers.Waiver(control="CTR-99", reason="r", expires=datetime.date(2030, 1, 1)),
             waivers.Waiver(control="CTR-01", case="web", reason="r", expires=datetime.date(2030, 1, 1)),
             waivers.Waiver(control="CTR-01", case="api", reason="r", expires=datetime.date(2030, 1, 1)))
    assert waivers.unknown(given, {"CTR-01": {"api", "gateway"}}) == [
        "CTR-99: no such control", "CTR-01[web]: the control has no such case (it has: api, gateway)"]


def test_expired_waivers_cover_nothing_and_stale_ones_are_named():
    expired = waivers.Waiver(control="CTR-01", reason="r", expires=datetime.date(2026, 12, 5))
    stale = waivers.Waiver(control="CTR-02", case="api", reason="r", expires=datetime.date(2027, 1, 1))
    used = waivers.Waiver(control="CTR-03", reason="r", expires=datetime.date(2027, 1, 1))
    given = (expired, stale, used)
    assert waivers.live_for(given, "CTR-01", "api", TODAY) is None
    outcomes = {("CTR-01", "api"): "failed", ("CTR-02", "api"): "passed", ("CTR-03", "api"): "waived",
                ("CTR-03", "gateway"): "passed"}
    found = waivers.review(given, outcomes, TODAY)
    assert [w["control"] for w in found["expired"]] == ["CTR-01"]
    assert [w["control"] for w in found["stale"]] == ["CTR-02"]


def test_the_reports_folder_loses_only_what_the_suite_wrote(tmp_path):
    """A user's logs/ and locust-notes.txt, written before any run, survive two runs; the first run's outputs
    are gone when the second starts."""
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "mine.log").write_text("mine")
    (tmp_path / "locust-notes.txt").write_text("mine")
    for _ in range(2):
        outputs.remove_previous(tmp_path)
        before = outputs.present(tmp_path)
        assert not (tmp_path / "summary.json").exists() and not (tmp_path / "locust_stats.csv").exists()
        (tmp_path / "summary.json").write_text("{}")
        (tmp_path / "locust_stats.csv").write_text("x")
        outputs.record(tmp_path, before)
        listed = json.loads((tmp_path / outputs.MANIFEST).read_text())["outputs"]
        assert listed == ["locust_stats.csv", "summary.json"]
    assert (tmp_path / "logs" / "mine.log").read_text() == "mine"
    assert (tmp_path / "locust-notes.txt").read_text() == "mine"


def test_a_tampered_manifest_removes_nothing_outside_the_folder(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "summary.json").write_text("keep")
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "notes.txt").write_text("keep")
    (reports / outputs.MANIFEST).write_text(json.dumps({"outputs": ["../outside/summary.json", "notes.txt", 3]}))
    outputs.remove_previous(reports)
    assert (outside / "summary.json").exists() and (reports / "notes.txt").exists()

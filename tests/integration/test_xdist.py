"""``-n 2``: pytest-xdist's workers check one stack, the controller writes one summary and takes the stack down."""

import threading
import uuid

import pytest
import yaml

from infra_conformance.engine.compose import SUITE_LABEL
from infra_conformance.engine.runfiles import INSPECTOR_REPOSITORY


@pytest.mark.slow
def test_two_workers_share_one_stack(run_suite, docker_client, tmp_path):
    mark = uuid.uuid4().hex  # a label on every container this run creates, whichever worker would create it
    overlay = tmp_path / "marked.yaml"
    overlay.write_text(yaml.safe_dump({"services": {service: {"labels": {"selftest.run": mark}}
                                                    for service in ("postgres", "redis", "api", "gateway")}}))
    # Watched live: the engine keeps only its last 256 events, and healthchecks make several a second.
    events = docker_client.events(decode=True, filters={"type": "container", "event": "create",
                                                        "label": f"selftest.run={mark}"})
    created = []
    watcher = threading.Thread(target=lambda: created.extend(events), daemon=True)
    watcher.start()
    try:
        run = run_suite("-n", "2", "--compose-file", str(overlay), "--pi-emulation", "off", "--control",
                        "CTR-*,NET-*,API-01,GW-04,GW-05,GW-03,RES-03,BUD-01")
    finally:
        events.close()
        watcher.join(timeout=10)

    assert run.returncode == 4, run.tail()
    assert ("conformance: -n shares one stack between its workers, so 3 controls that need it alone did not run "
            "(BUD-01, GW-03, RES-03); run them without -n: pytest -m 'destructive or pi or floods'") in run.output
    summary = run.summary
    failed = [(c["id"], c["case"], c["message"][:300]) for c in summary["controls"] if c["outcome"] == "failed"]
    assert summary["verdict"] == "partial" and summary["not_run"] == 0, (summary["totals"], failed)
    assert summary["left_out"] == {"ids": ["BUD-01", "GW-03", "RES-03"], "cases": 3}, summary["left_out"]
    assert summary["totals"]["failed"] == 0, summary["totals"]
    assert {(c["id"], c["case"]) for c in summary["controls"] if c["outcome"] == "not_applicable"} == {
        ("CTR-08", "seed"), ("CTR-08", "backup")}  # one-off jobs have no health to report
    alone = {c["id"] for c in summary["controls"] if c["outcome"] == "not_checked" and "alone" in c["message"]}
    assert alone == {"BUD-01", "GW-03", "RES-03"}, alone
    assert {c["id"] for c in summary["controls"] if c["outcome"] == "passed"} >= {
        "CTR-01", "CTR-11", "NET-01", "API-01", "GW-04", "GW-05"}
    assert summary["stack"]["startup_s"].keys() == {"postgres", "redis", "api", "gateway"}
    projects = [event["Actor"]["Attributes"]["com.docker.compose.project"] for event in created]
    assert projects == [summary["stack"]["project"]] * 4, projects  # one boot: four containers, one project
    inspectors = docker_client.images.list(filters={"label": f"{SUITE_LABEL}={summary['stack']['project']}"})
    assert sorted(tag for image in inspectors for tag in image.tags) == [  # one per worker, none left untagged
        f"{INSPECTOR_REPOSITORY}:{summary['stack']['project']}-gw{n}" for n in (0, 1)], inspectors

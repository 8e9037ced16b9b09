"""Pi emulation arithmetic, locust's command line and CSV, budget wording."""

import json
import sys
import time
from unittest import mock

import pytest

from infra_conformance.measure import emulation, load, stability, throttling
from infra_conformance.measure.budgets import Budget, describe
from infra_conformance.measure.emulation import (
    CALIBRATION_SPREAD,
    PI4_EVENTS_PER_S_1_THREAD,
    Calibration,
    calibrate,
    is_raspberry_pi,
    plan,
    split_cpus,
    uncertainty,
)
from infra_conformance.measure.load import LoadError, StatsSampler, aggregated, locust_argv, run_locust


@pytest.mark.parametrize("count, expected", [(1, ("", "")), (2, ("1", "0")), (4, ("1-3", "0")), (16, ("1-4", "0"))])
def test_stack_and_generator_get_different_cpus(count, expected):
    assert split_cpus(count) == expected


def test_a_quota_scales_each_service_to_pi_speed():
    result = plan(True, {"api": 1.0, "redis": 0.5}, Calibration(3 * PI4_EVENTS_PER_S_1_THREAD), cpu_count=2,
                  method="quota")
    assert result.pi_cores_per_host_core == pytest.approx(3.0)
    assert result.env == {"PI_CPUS_API": "0.333", "PI_CPUS_REDIS": "0.167", "PI_CPUSET": "1"}
    assert (result.stack_cpus, result.load_cpus) == ("1", "0")
    assert result.conditions()["pi_emulation"] is True
    assert (result.dilation, result.dilated(0.1)) == (1.0, 0.1)


def test_time_dilation_keeps_each_services_limit_and_scales_time():
    result = plan(True, {"api": 1.0, "redis": 0.5}, Calibration(3 * PI4_EVENTS_PER_S_1_THREAD), cpu_count=2)
    assert result.env == {"PI_CPUS_API": "1.000", "PI_CPUS_REDIS": "0.500", "PI_CPUSET": "1"}
    assert result.dilation == pytest.approx(3.0) and result.dilated(0.1) == pytest.approx(0.3)
    assert result.conditions()["emulation_method"].startswith("time dilation")
    assert result.conditions()["time_dilation"] == 3.0
    assert "the stack refused 2 requests with 429" in uncertainty({}, result, rate_limited=2)
    assert not uncertainty({}, plan(True, {"api": 1.0}, Calibration(3 * PI4_EVENTS_PER_S_1_THREAD), cpu_count=2,
                                    method="quota"), rate_limited=2)  # at the Pi's own rate, a 429 is the stack's


def test_plan_never_speeds_up_a_host_slower_than_a_pi():
    result = plan(True, {"api": 1.0}, Calibration(PI4_EVENTS_PER_S_1_THREAD / 2), cpu_count=4)
    assert result.env["PI_CPUS_API"] == "1.000"


REFERENCE_CPUS = {"postgres": 1.0, "redis": 0.5, "api": 1.0, "gateway": 0.5}  # compose/compose.yaml, in Pi 4 cores


@pytest.mark.parametrize("method, cpu_count, score, short", [
    ("quota", 2, 3289.0, True),   # this machine: one stack CPU worth 2.2 Pi cores, for limits that add up to 3
    ("quota", 2, 4500.0, False),  # one stack CPU worth 3.04 Pi cores
    ("quota", 4, 3289.0, False),  # a four-core runner: three stack CPUs
    ("quota", 1, 3289.0, True),   # one CPU, shared with the load generator
    ("dilation", 2, 4500.0, True),   # one stack CPU, under a load 3.04 times as fast: one Pi core's worth
    ("dilation", 4, 3289.0, False),  # three stack CPUs: three Pi cores' worth
])
def test_an_emulated_pi_smaller_than_the_stack_needs_makes_a_latency_uncertain(method, cpu_count, score, short):
    emulated = plan(True, REFERENCE_CPUS, Calibration(score), cpu_count=cpu_count, method=method)
    assert emulated.needed_pi_cores == 3.0
    assert bool(emulated.shortfall()) is short
    assert bool(uncertainty({}, emulated)) is short
    assert emulated.conditions()["needed_pi_cores"] == 3.0


def test_the_needed_cores_are_at_most_a_pi_4s_and_unemulated_runs_have_no_doubt():
    many = plan(True, {f"s{n}": 1.0 for n in range(6)}, Calibration(3 * PI4_EVENTS_PER_S_1_THREAD), cpu_count=2,
                method="quota")
    assert (many.needed_pi_cores, many.pi_cores) == (4.0, pytest.approx(3.0))
    assert "fewer than the 4 that" in many.shortfall()
    assert not plan(False, REFERENCE_CPUS, Calibration(1000.0)).shortfall()
    assert uncertainty({"api": {"frozen_share": 0.2}}, plan(False, {}, Calibration(1000.0))).startswith(
        "the CPU quota froze api")


def test_plan_off_keeps_the_calibration_for_cpu_budgets():
    result = plan(False, {"api": 1.0}, Calibration(2 * PI4_EVENTS_PER_S_1_THREAD))
    assert (result.enabled, result.env, result.pi_cores_per_host_core) == (False, {}, 2.0)


def test_calibration_repeats_a_round_until_its_runs_agree(monkeypatch):
    scores = iter([3900, 4500, 4000, 4200, 3879,  4000, 4010, 3990, 4005, 3995])
    monkeypatch.setattr(emulation, "host_events_per_s", lambda seconds: next(scores))
    found = calibrate()
    assert (found.events_per_s, found.runs, found.source) == (4000, (4000, 4010, 3990, 4005, 3995), "measured")
    assert found.conditions()["calibration_spread"] == 0.003  # (4005 - 3995) / 4000


def test_calibration_keeps_the_steadiest_round_when_none_agree(monkeypatch):
    rounds = [[3000, 3600, 4000, 4400, 5000], [3700, 4250, 4000, 3800, 4300], [3000, 3500, 4000, 4500, 5000]]
    scores = iter(score for one in rounds for score in one)
    monkeypatch.setattr(emulation, "host_events_per_s", lambda seconds: next(scores))
    assert calibrate().runs == (3700, 4250, 4000, 3800, 4300)


def test_one_jittery_run_does_not_repeat_a_round_but_a_busy_host_does(monkeypatch):
    """Rounds measured on this machine (2026-12-07): quiet, 6.1 % from lowest to highest but 1.5 % between the
    quartiles; beside two busy sysbench threads, 12.7 % between the quartiles."""
    quiet, busy = (2937, 3047, 3003, 3040, 3124), (1862, 2189, 2139, 2004, 1885)
    scores = iter(quiet)
    monkeypatch.setattr(emulation, "host_events_per_s", lambda seconds: next(scores))
    assert calibrate().runs == quiet
    assert Calibration(2004, busy).spread > CALIBRATION_SPREAD


def test_a_given_host_score_runs_no_benchmark(monkeypatch):
    monkeypatch.setattr(emulation, "host_events_per_s", lambda seconds: pytest.fail("benchmarked"))
    found = calibrate(3879.0)
    assert (found.events_per_s, found.source, found.conditions()["calibration"]) == (3879.0, "given",
                                                                                     "given with --pi-host-score")


def test_pi_detection(tmp_path):
    model = tmp_path / "model"
    model.write_text("Raspberry Pi 4 Model B Rev 1.5\x00")
    assert is_raspberry_pi(model)
    assert not is_raspberry_pi(tmp_path / "absent")


def test_locust_command_line_is_pinned_and_headless(tmp_path):
    argv = locust_argv(tmp_path / "crm.py", "http://127.0.0.1:8080", 100, 8, 73, tmp_path / "locust", cpus="0")
    assert argv[:3] == ["taskset", "-c", "0"]
    assert argv[argv.index("--host") + 1] == "http://127.0.0.1:8080"
    assert {"--headless", "--reset-stats", "--only-summary"} <= set(argv)
    assert argv[argv.index("-u") + 1:argv.index("-u") + 6] == ["100", "-r", "8", "-t", "73s"]


def test_a_dilated_load_loads_the_wait_divider_beside_the_locustfile(tmp_path):
    argv = locust_argv(tmp_path / "crm.py", "http://127.0.0.1:8080", 100, 4, 85, tmp_path / "locust", dilation=2.5)
    assert argv[argv.index("-f") + 1] == f"{tmp_path / 'crm.py'},{load.dilated_load.__file__}"
    assert argv[argv.index("--time-dilation") + 1] == "2.5"
    assert "--time-dilation" not in locust_argv(tmp_path / "crm.py", "http://x", 1, 1, 1, tmp_path / "locust")
    with pytest.raises(LoadError, match="comma"):
        locust_argv(tmp_path / "a,b.py", "http://x", 1, 1, 1, tmp_path / "locust", dilation=2.0)


def test_rate_limited_requests_are_counted_from_the_failures(tmp_path):
    failures = tmp_path / "locust_failures.csv"
    failures.write_text('Method,Name,Error,Occurrences\nPOST,/auth/login,"HTTPError(\'429 Client Error: Too Many '
                        'Requests for url: /auth/login\')",35\nGET,/api/clients,"HTTPError(\'500 Server Error\')",2\n')
    assert load.rate_limited(failures) == 35
    assert load.rate_limited(tmp_path / "absent.csv") == 0


def test_aggregated_row(tmp_path):
    stats = tmp_path / "locust_stats.csv"
    stats.write_text("Type,Name,Request Count,Failure Count,50%,95%,Requests/s\n"
                     "GET,/api/clients,90,0,7,40,45.0\n,Aggregated,100,1,8,42,50.0\n")
    assert aggregated(stats)["95%"] == "42"
    stats.write_text("Type,Name\nGET,/x\n")
    with pytest.raises(LoadError, match="no Aggregated row"):
        aggregated(stats)


def test_conditions_read_like_the_issue():
    assert describe({"users": 100, "duration_s": 60, "pi_emulation": True}) == "100 users, 60 s, Pi emulation"
    assert describe({"pi_emulation": False}) == "no Pi emulation"


@pytest.mark.parametrize("measured", [float("nan"), float("inf"), 200.0, 250.0])
def test_a_budget_passes_only_on_a_finite_value_below_its_limit(measured):
    assert not Budget.judge("API p95", measured, 200, "ms", {}).passed


def _fake_locust(code: str, run_time_s: int = 5) -> list[str]:
    return [sys.executable, "-c", code, "-t", f"{run_time_s}s"]


def test_a_locust_that_floods_its_output_does_not_hang(tmp_path):
    started = time.monotonic()
    with pytest.raises(LoadError, match="locust wrote no statistics"):
        run_locust(_fake_locust("print('x' * 4_000_000)"), {}, 1, 1, tmp_path / "locust")
    assert time.monotonic() - started < 10 and (tmp_path / "locust.log").stat().st_size > 4_000_000


def test_a_locustfile_that_fails_to_import_fails_the_run(tmp_path):
    with pytest.raises(LoadError, match="locust exited 1: ImportError: no module"):
        run_locust(_fake_locust("import sys; print('ImportError: no module'); sys.exit(1)"), {}, 1, 1,
                   tmp_path / "locust")


def test_a_hung_locust_is_killed(tmp_path):
    with mock.patch.object(load, "GRACE_S", 1), pytest.raises(LoadError, match="did not finish within 2 s"):
        run_locust(_fake_locust("import time; time.sleep(60)", run_time_s=1), {}, 1, 1, tmp_path / "locust")


def test_stale_statistics_are_never_read(tmp_path):
    (tmp_path / "locust_stats.csv").write_text("Type,Name,Request Count,Failure Count,50%,95%,Requests/s\n"
                                                ",Aggregated,100,0,8,42,50.0\n")
    with pytest.raises(LoadError, match="locust exited 2"):
        run_locust(_fake_locust("import sys; sys.exit(2)"), {}, 1, 1, tmp_path / "locust")


def test_samples_must_cover_every_service_for_the_whole_run():
    sampler = StatsSampler([])
    sampler.started, sampler.ended = 100.0, 160.0
    sampler.seen = {"api": (100.5, 159.8), "redis": (130.0, 159.0)}
    assert sampler.gaps(["api", "redis", "postgres"]) == [
        "no samples from postgres", "samples from redis cover only 30 to 59 s of the 60 s run"]


def _run(api_ms: float, noisy: bool = False) -> dict:
    """A completed run as ``stability.one_run`` returns it; ``noisy``: measured above the latency steal share."""
    return {"exit": 0, "duration_s": 1.0, "verdict": "passed", "stopped": None, "outcomes": {"BUD-04": "passed"},
            "budgets": {"API p95": {"measured": api_ms, "limit": 200, "passed": True, "noisy": noisy,
                                    "stolen": 0.05 if noisy else 0.01}}}


def test_a_quiet_campaign_goes_on_until_it_has_its_quiet_runs(tmp_path):
    runs = iter([_run(24), _run(71, noisy=True), _run(26)])
    with mock.patch.object(stability, "one_run", side_effect=lambda *_: next(runs)) as one_run:
        assert stability.main(["--runs", "2", "--reports-dir", str(tmp_path)]) == 0
    assert one_run.call_count == 3
    found = json.loads((tmp_path / "stability.json").read_text())["comparison"]
    assert (found["completed"], found["quiet"], found["budgets"]["API p95"]["max"]) == (3, 2, 26)
    assert "| 2 | 0 | passed | no (API p95, 5 % stolen) |" in (tmp_path / "stability.md").read_text()


def test_a_quiet_campaign_stops_at_its_most_runs(tmp_path):
    with mock.patch.object(stability, "one_run", return_value=_run(71, noisy=True)) as one_run:
        assert stability.main(["--runs", "2", "--max-runs", "3", "--reports-dir", str(tmp_path)]) == 1
    assert one_run.call_count == 3


def test_a_figure_the_quota_froze_is_an_uncertain_pass():
    frozen = throttling.over({}, {"api": throttling.Counters(850, 354, 6_440_000_000)}, window_s=86)
    assert throttling.dominated(frozen) == ["api"]  # 7.5 % of the window frozen
    budget = Budget.judge("API p95", 150, 200, "ms", {"pi_emulation": True, "throttling": frozen,
                                                      "uncertain": "the quota froze api"})
    assert (budget.passed, budget.result, budget.as_dict()["result"]) == (True, "pass (uncertain)", "pass (uncertain)")
    assert budget.message == ("API p95 150 ms < 200 ms budget (Pi emulation, CPU quota froze api in 42 % of its "
                              "periods (6.44 s, 8 % of the window)); uncertain: the quota froze api")

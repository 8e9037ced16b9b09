"""Pi emulation arithmetic, locust's command line and CSV, budget wording."""

import pytest

from fixtures.budgets import describe
from fixtures.emulation import PI4_EVENTS_PER_S_1_THREAD, is_raspberry_pi, plan, split_cpus
from fixtures.load import aggregated, locust_argv


@pytest.mark.parametrize("count, expected", [(1, ("", "")), (2, ("1", "0")), (4, ("1-3", "0")), (16, ("1-4", "0"))])
def test_stack_and_generator_get_different_cpus(count, expected):
    assert split_cpus(count) == expected


def test_plan_scales_each_service_to_pi_speed():
    result = plan(True, {"api": 1.0, "redis": 0.5}, events_per_s=3 * PI4_EVENTS_PER_S_1_THREAD, cpu_count=2)
    assert result.pi_cores_per_host_core == pytest.approx(3.0)
    assert result.env == {"PI_CPUS_API": "0.333", "PI_CPUS_REDIS": "0.167", "PI_CPUSET": "1"}
    assert (result.stack_cpus, result.load_cpus) == ("1", "0")
    assert result.conditions()["pi_emulation"] is True


def test_plan_never_speeds_up_a_host_slower_than_a_pi():
    result = plan(True, {"api": 1.0}, events_per_s=PI4_EVENTS_PER_S_1_THREAD / 2, cpu_count=4)
    assert result.env["PI_CPUS_API"] == "1.000"


def test_plan_off_keeps_the_calibration_for_cpu_budgets():
    result = plan(False, {"api": 1.0}, events_per_s=2 * PI4_EVENTS_PER_S_1_THREAD)
    assert (result.enabled, result.env, result.pi_cores_per_host_core) == (False, {}, 2.0)


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


def test_aggregated_row(tmp_path):
    stats = tmp_path / "locust_stats.csv"
    stats.write_text("Type,Name,Request Count,Failure Count,50%,95%,Requests/s\n"
                     "GET,/api/clients,90,0,7,40,45.0\n,Aggregated,100,1,8,42,50.0\n")
    assert aggregated(stats)["95%"] == "42"
    stats.write_text("Type,Name\nGET,/x\n")
    with pytest.raises(ValueError, match="no Aggregated row"):
        aggregated(stats)


def test_conditions_read_like_the_issue():
    assert describe({"users": 100, "duration_s": 60, "pi_emulation": True}) == "100 users, 60 s, Pi emulation"
    assert describe({"pi_emulation": False}) == "no Pi emulation"

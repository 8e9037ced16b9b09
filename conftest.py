"""Plugins, command-line options and the control-marker hook of the conformance suite."""

from pathlib import Path

import pytest

from fixtures.controls import check_controls
from fixtures.profile import PROFILE_KEY, ProfileError, load_profile

pytest_plugins = [
    "fixtures.report",
    "fixtures.stack",
    "fixtures.targets",
    "fixtures.hosts",
    "fixtures.clients",
    "fixtures.budgets",
]

ROOT = Path(__file__).parent


def pytest_addoption(parser):
    group = parser.getgroup("conformance", "infrastructure conformance suite")
    group.addoption("--stack-dir", default=str(ROOT / "compose"), metavar="DIR",
                    help="folder with the stack's conformance.toml (default: the reference stack)")
    group.addoption("--compose-file", action="append", default=[], metavar="FILE",
                    help="extra compose overlay, applied after the profile's files; repeatable")
    group.addoption("--profile-set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a profile key with a TOML value, e.g. postgres.min_version=16; repeatable")
    group.addoption("--keep-stack", action="store_true",
                    help="leave the stack running after the run, for debugging")
    group.addoption("--startup-timeout", type=int, default=180, metavar="S",
                    help="give up when the stack is not healthy after S seconds (default 180)")
    group.addoption("--pi-emulation", choices=("auto", "on", "off"), default="auto",
                    help="Raspberry Pi 4 CPU emulation through the profile's [pi] overlay; auto: on unless "
                         "this host is a Pi (default auto)")
    group.addoption("--reports-dir", default=str(ROOT / "reports"), metavar="DIR",
                    help="where summary.json and service logs go (default: reports/)")


def pytest_configure(config):
    try:
        config.stash[PROFILE_KEY] = load_profile(Path(config.getoption("stack_dir")), config.getoption("profile_set"))
    except ProfileError as error:
        raise pytest.UsageError(str(error)) from None
    for path in config.getoption("compose_file"):
        if not Path(path).is_file():
            raise pytest.UsageError(f"--compose-file {path}: no such file")


def pytest_collection_modifyitems(config, items):
    """Reject controls without metadata or with a duplicate ID; copy metadata to the reports."""
    errors = check_controls(items)
    if errors:
        raise pytest.UsageError("; ".join(errors))

"""Plugins and command-line options of the conformance suite."""

from pathlib import Path

pytest_plugins = [
    "fixtures.options",
    "fixtures.exits",
    "fixtures.controls",
    "fixtures.shared",
    "fixtures.run",
    "fixtures.stack",
    "fixtures.targets",
    "fixtures.hosts",
    "fixtures.clients",
    "fixtures.budgets",
    "fixtures.report",
    "fixtures.review",
]

ROOT = Path(__file__).parent


def pytest_addoption(parser):
    """Options take plain strings here; fixtures.options checks them all, so a bad one is one line and exit 4."""
    group = parser.getgroup("conformance", "infrastructure conformance suite")
    group.addoption("--stack-dir", default=str(ROOT / "compose"), metavar="DIR",
                    help="folder with the stack's conformance.toml (default: the reference stack)")
    group.addoption("--compose-file", action="append", default=[], metavar="FILE",
                    help="extra compose overlay, applied after the profile's files; repeatable")
    group.addoption("--profile-set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a profile key with a TOML value, e.g. postgres.min_version=16; repeatable")
    group.addoption("--control", action="append", default=[], metavar="IDS",
                    help="run only these controls: IDs or shell-style patterns, comma-separated, e.g. CTR-01,RLS-*")
    group.addoption("--compose-profile", default=None, metavar="NAME",
                    help="boot the stack with this compose profile (one of the profile's compose_profiles, e.g. "
                         "dev, prod or test) and check what it promises (default: none, as `docker compose up`)")
    group.addoption("--allow-outside-paths", action="store_true",
                    help="let the profile name files outside the stack folder")
    group.addoption("--keep-stack", action="store_true",
                    help="leave the stack running after the run, for debugging")
    group.addoption("--reuse-stack", default=None, metavar="PROJECT",
                    help="check a compose project that is already up (one kept with --keep-stack) and leave it up")
    group.addoption("--keep-images", action="store_true",
                    help="keep the images this run built (default: remove them, keeping their build cache)")
    group.addoption("--startup-timeout", default="180", metavar="S",
                    help="give up when the stack is not healthy after S seconds, 1 to 3600 (default 180)")
    group.addoption("--pi-emulation", default="auto", metavar="auto|on|off",
                    help="Raspberry Pi 4 CPU emulation through the profile's [pi] overlay; auto: on unless "
                         "this host is a Pi (default auto)")
    group.addoption("--platform", default=None, metavar="OS/ARCH",
                    help="build and run the stack for this platform, e.g. linux/arm64, emulated when it is not the "
                         "engine's own (default: the engine's platform)")
    group.addoption("--load-workers", default="0", metavar="N",
                    help="run locust as a master with N local worker processes (default 0: one process)")
    group.addoption("--max-contention", default="0.5", metavar="CORES",
                    help="end the run (exit 3) rather than judge a budget while other processes and steal used more "
                         "than CORES host cores (default 0.5)")
    group.addoption("--baseline", default=None, metavar="FILE",
                    help="an earlier summary.json: the report shows new failures, fixes and budget changes since it")
    group.addoption("--max-regression", default=None, metavar="PCT",
                    help="with --baseline: fail a budget that got worse than the baseline by more than PCT percent")
    group.addoption("--reports-dir", default=str(ROOT / "reports"), metavar="DIR",
                    help="where summary.json, service logs and locust's files go (default: reports/)")

"""pytest plugins that boot a compose stack, reach into it and report on it; loading this package loads them all.

Installed, this folder is ``infra_conformance.plugins``. The repository's ``conftest.py`` loads it; elsewhere,
``conformance run`` or ``pytest --stack-dir DIR`` does (``activation``). The command-line options are the fields of
``infra_conformance.plugins.options.Options``. This module holds no assert (PYTEST_DONT_REWRITE): the entry point
imports it before pytest's rewriting could.
"""

pytest_plugins = [
    "infra_conformance.plugins.options",
    "infra_conformance.plugins.collection",
    "infra_conformance.plugins.exits",
    "infra_conformance.plugins.workers",
    "infra_conformance.plugins.resources",
    "infra_conformance.plugins.guard",
    "infra_conformance.plugins.lifecycle",
    "infra_conformance.plugins.targets",
    "infra_conformance.plugins.hosts",
    "infra_conformance.plugins.clients",
    "infra_conformance.plugins.tenancy",
    "infra_conformance.plugins.measuring",
    "infra_conformance.plugins.results",
    "infra_conformance.plugins.html_report",
    "infra_conformance.plugins.waivers",
]

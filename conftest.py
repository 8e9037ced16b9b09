"""The repository's root: loads the conformance suite's plugins (``fixtures/``, installed as
``infra_conformance.plugins``) for ``pytest suites`` and ``make test``."""

pytest_plugins = ["infra_conformance.plugins"]

"""The controls, one module per area; installed as ``infra_conformance.suites``, which ``conformance run`` finds."""

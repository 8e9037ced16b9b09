"""The conformance suite's plugins; its command-line options are the fields of ``fixtures.options.Options``."""

pytest_plugins = [
    "fixtures.options",
    "fixtures.controls",
    "fixtures.exits",
    "fixtures.shared",
    "fixtures.run",
    "fixtures.guard",
    "fixtures.stack",
    "fixtures.targets",
    "fixtures.hosts",
    "fixtures.clients",
    "fixtures.tenancy",
    "fixtures.budgets",
    "fixtures.report",
    "fixtures.review",
    "fixtures.waivers",
]

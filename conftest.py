"""The conformance suite's plugins; its command-line options are the fields of ``fixtures.options.Options``."""

pytest_plugins = [
    "fixtures.options",
    "fixtures.collection",
    "fixtures.exits",
    "fixtures.workers",
    "fixtures.resources",
    "fixtures.guard",
    "fixtures.lifecycle",
    "fixtures.targets",
    "fixtures.hosts",
    "fixtures.clients",
    "fixtures.tenancy",
    "fixtures.measuring",
    "fixtures.results",
    "fixtures.html_report",
    "fixtures.waivers",
]

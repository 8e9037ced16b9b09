"""The run's summary and what is rendered from it: JSON, Markdown, SARIF and HTML."""

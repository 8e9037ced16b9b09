"""What an HTTP answer must never show: a stack trace, SQL, a driver's message or an internal path."""

MARKERS = ("Traceback", 'File "', "psycopg", "SQLSTATE", "syntax error", "pg_catalog", "/app/", "/usr/lib/python",
           "site-packages", "Exception", "ProgrammingError", "nginx/")


def leaked(text: str) -> list[str]:
    """The markers found in ``text``.

    >>> leaked('{"error": "database unavailable"}')
    []
    >>> leaked('Traceback (most recent call last):\\n  File "/app/crm_api/db.py"')
    ['Traceback', 'File "', '/app/']
    """
    return [marker for marker in MARKERS if marker in text]

"""Which environment variables carry a credential: by name and value, never a setting such as a lifetime or a path.

    >>> credential_variables(["DB_PASSWORD=hunter2", "TOKEN_TTL_S=3600", "SECRETS_DIR=/run/secrets",
    ...                       "API_KEY_FILE=/run/secrets/key", "JWT_SECRET=", "SESSION_TOKEN=ab12cd34ef"])
    ['DB_PASSWORD', 'SESSION_TOKEN']
"""

from __future__ import annotations

import re

SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.IGNORECASE)
URL_PASSWORD = re.compile(r"://[^/@\s:]+:[^/@\s]+@")  # scheme://user:password@host
# Values that are settings about a secret, not the secret: a number with an optional unit (a lifetime, a length),
# a boolean, an absolute path (where the secret's file is), or nothing.
SETTING_VALUE = re.compile(r"^(-?\d+(\.\d+)?[a-zA-Z]{0,3}|true|false|yes|no|on|off|/\S*|)$", re.IGNORECASE)


def credential_variables(environment: list[str]) -> list[str]:
    """The names of ``NAME=value`` entries whose name says secret and whose value could be one."""
    found = []
    for entry in environment:
        name, _, value = entry.partition("=")
        if SECRET_NAME.search(name) and not name.upper().endswith("_FILE") and not SETTING_VALUE.match(value):
            found.append(name)
    return found


def url_passwords(environment: list[str]) -> list[str]:
    """The names of entries whose value is a URL with a password in it.

    >>> url_passwords(["DATABASE_URL=postgresql://app:s3cret@db/crm", "HOME_URL=https://crm.example.test/"])
    ['DATABASE_URL']
    """
    return [entry.partition("=")[0] for entry in environment if URL_PASSWORD.search(entry.partition("=")[2])]

"""A valid row for a tenant table, copied from one of the tenant's own rows, to see where an INSERT really lands.

An INSERT of the tenant column alone fails on any other required column, and that error says nothing of the tenant
policy. The probe copies every required column without a default from a row the tenant already has, makes its
unique text columns unique with a marker prefix, and leaves everything else to the table's defaults.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from psycopg import sql

COLUMNS = """
SELECT a.attname, a.attnotnull AND NOT (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> ''),
       format_type(a.atttypid, NULL) IN ('text', 'character varying', 'citext'),
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique AND a.attnum = ANY (i.indkey))
FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"""


@dataclass(frozen=True)
class Column:
    name: str
    required: bool  # NOT NULL without a default: the probe must give it a value
    text: bool
    unique: bool  # in a unique index: a copied value would collide


def columns(admin, table: str) -> list[Column]:
    """The table's columns, read from the catalogue by a role that sees it whole."""
    return [Column(*row) for row in admin.execute(COLUMNS, (table,)).fetchall()]


def copy_insert(table: sql.Composable, found: list[Column], tenant_column: str) -> sql.Composed:
    """``INSERT INTO table (tenant, required...) SELECT %s, src.required... FROM table src LIMIT 1``, with a fresh
    marker prefixing its unique text columns; the tenant's value is the statement's one parameter.

    >>> statement = copy_insert(sql.Identifier("users"), [Column("id", False, False, True),
    ...     Column("tenant_id", True, False, True), Column("email", True, True, True), Column("name", True, True,
    ...     False)], "tenant_id")
    >>> [type(part).__name__ for part in statement._obj][:3]
    ['SQL', 'Identifier', 'SQL']
    """
    marker = "p" + secrets.token_hex(4)
    copied = [c for c in found if c.required and c.name != tenant_column]
    values = [sql.SQL("{} || src.{}").format(sql.Literal(marker), sql.Identifier(c.name)) if c.text and c.unique
              else sql.SQL("src.{}").format(sql.Identifier(c.name)) for c in copied]
    statement = sql.SQL("INSERT INTO {t} ({columns}) SELECT {values} FROM {t} AS src LIMIT 1").format(
        t=table, columns=sql.SQL(", ").join(sql.Identifier(n) for n in [tenant_column, *(c.name for c in copied)]),
        values=sql.SQL(", ").join([sql.Placeholder(), *values]))
    return statement

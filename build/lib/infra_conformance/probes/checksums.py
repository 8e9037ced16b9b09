"""Every table's row count and checksum, to prove that data came through a crash, a restart or a restore."""

from __future__ import annotations

from psycopg import sql

TABLES = """SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
            ORDER BY 1"""
# Order-independent: the md5 of the sorted md5s of each row's text.
DIGEST = "SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') FROM {} t"


def table_checksums(conn) -> dict[str, tuple[int, str]]:
    """``{schema.table: (rows, checksum)}`` for every table in the database, read by a role that sees every row
    (a superuser: row-level security would hide some)."""
    names = [name for (name,) in conn.execute(TABLES)]  # quoted by format('%I')
    return {name: tuple(conn.execute(sql.SQL(DIGEST).format(sql.SQL(name))).fetchone()) for name in names}


def differences(before: dict, after: dict) -> list[str]:
    """The tables whose rows differ, as ``table: rows before -> after``.

    >>> differences({"a": (2, "x"), "b": (1, "y")}, {"a": (2, "z"), "c": (0, "")})
    ['a: 2 rows -> 2 rows, other content', 'b: 1 rows -> missing', 'c: missing -> 0 rows']
    """
    def shown(value):
        return "missing" if value is None else f"{value[0]} rows"
    found = []
    for table in sorted(before.keys() | after.keys()):
        old, new = before.get(table), after.get(table)
        if old != new:
            other = ", other content" if old and new and old[0] == new[0] else ""
            found.append(f"{table}: {shown(old)} -> {shown(new)}{other}")
    return found

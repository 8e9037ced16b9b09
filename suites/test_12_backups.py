"""Backups: whole and verified, damage rejected, retention kept, restore careful, and a round trip into a fresh stack.

The commands are the profile's ``[backup]``, run with ``docker compose run --rm`` in its backup service. The
restores are ``destructive``: they end every connection, and the round trip loses the database's volume, so
they run after every control that is not (``fixtures.collection.run_order``).
"""

from __future__ import annotations

import gzip
import hashlib
import zlib

import pytest

from infra_conformance.plugins.clients import assert_tables_as_before
from infra_conformance.plugins.collection import skip_not_applicable
from infra_conformance.plugins.http_clients import assert_login_works, create_probe_row
from infra_conformance.probes.backups import BackupTool, dumped_rows, last_words
from infra_conformance.probes.checksums import differences

HEADER, FOOTER = b"-- PostgreSQL database dump\n", b"-- PostgreSQL database dump complete\n"
DAY_S = 86400


@pytest.fixture(scope="module")
def backups(stack) -> BackupTool:
    if stack.profile.backup is None:
        skip_not_applicable("backup", "the profile has no [backup] section")
    return BackupTool(stack.compose, stack.profile.backup)


@pytest.fixture(scope="module")
def first_backup(backups) -> tuple[str, bytes]:
    """A backup made now, and its bytes."""
    path = backups.backup()
    return path, backups.read(path)


def _name(path: str) -> str:
    return path.rpartition("/")[2]


def _checksum_line(data: bytes, name: str) -> bytes:
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode()


@pytest.mark.control("BAK-01", severity="critical", claims=["Z11", "P8", "L6"])
def test_backup_is_whole_and_verified(backups, first_backup, checksums_now):
    """A backup is a compressed pg_dump of every table and its rows, run to its end, with a matching SHA-256 file.

    Rationale: a backup is only found to be empty or cut short on the day it is needed. The suite makes
    one with the stack's own command, reads it back, decompresses it, finds a CREATE TABLE for every table
    in the database, rows for every table that has some (a schema-only dump, or one that leaves out a
    table's data, restores an empty CRM) and pg_dump's closing line, checks the checksum file, and runs
    the stack's verification.

    Covers: every table of the database, and the rows of every table that has some.

    Fix: Write the dump to a temporary name, check it (`gzip -t`, the closing line), then move it into place
    and write `sha256sum` beside it; never leave a partial file under a backup's name.

    References: https://www.postgresql.org/docs/current/app-pgdump.html; https://www.postgresql.org/docs/current/backup-dump.html
    """
    path, data = first_backup
    assert data, f"{path}: expected a compressed dump, found an empty file"
    try:
        dump = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        pytest.fail(f"{path}: expected a whole gzip file, found {type(error).__name__}: {error}")
    assert dump.startswith(b"--\n" + HEADER), f"{path}: expected a pg_dump, found {dump[:60]!r}"
    assert FOOTER in dump[-600:], f"{path}: expected pg_dump's closing line, found a dump cut short"
    tables = checksums_now()
    absent = [t for t in tables if f"CREATE TABLE {t} (".encode() not in dump]
    assert not absent, f"{path}: expected every table, found no {', '.join(absent[:5])}"
    empty = [f"{t} ({rows} rows in the database)" for t, (rows, _) in tables.items()
             if rows and not dumped_rows(dump, t)]
    assert not empty, f"{path}: expected the rows of every table, found none for {', '.join(empty[:5])}"
    recorded = backups.read(path + ".sha256")
    assert recorded.split()[:1] == [hashlib.sha256(data).hexdigest().encode()], (
        f"{path}.sha256: expected the backup's SHA-256, found {recorded[:80]!r}")
    verified = backups.verify(path)
    assert verified.returncode == 0, (f"verify {path}: expected exit 0 for an intact backup, found "
                                      f"{verified.returncode}: {last_words(verified)}")


DAMAGE = {  # (the file, what its checksum file describes)
    "truncated": lambda data: (data[: len(data) // 2], data),
    "altered": lambda data: (data[:-40] + bytes([data[-40] ^ 0xFF]) + data[-39:], data),
    "truncated-rechecksummed": lambda data: (data[: len(data) // 2],) * 2,
}
DAMAGE_SAID = {"truncated": "cut in half", "altered": "with one byte changed",
               "truncated-rechecksummed": "cut in half, with a checksum file made after the cut"}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.control("BAK-02", severity="high", claims=["Z11", "P8", "L6"])
def test_verification_rejects_damage(backups, first_backup, damage):
    """Verification rejects a backup cut in half, one with a byte changed, and a cut one with a fresh checksum.

    Rationale: verification that only looks for the file, or only compares a checksum written after the
    damage, calls a useless backup good. The suite places damaged copies of a real backup beside it and
    runs the stack's verification on each.

    Fix: Verify the checksum, then that the file decompresses whole (`gzip -t`), then that the dump ends
    with pg_dump's closing line.

    References: https://www.postgresql.org/docs/current/backup-dump.html
    """
    path, data = first_backup
    broken, described = DAMAGE[damage](data)
    name = f"conformance-{damage}-{_name(path)}"
    folder = backups.spec.directory.rstrip("/")
    backups.place({name: broken, f"{name}.sha256": _checksum_line(described, name)})
    try:
        verified = backups.verify(f"{folder}/{name}")
    finally:
        backups.remove(f"{folder}/{name}", f"{folder}/{name}.sha256")
    assert verified.returncode != 0, f"verify: expected a backup {DAMAGE_SAID[damage]} rejected, found exit 0"


@pytest.mark.control("BAK-03", severity="medium", claims=["Z11", "P8", "L6"])
def test_prune_keeps_what_retention_promises(backups):
    """Pruning removes the backups older than the retention, with their checksum files, and keeps the rest.

    Rationale: without retention an SD card fills up and the next backup fails; with a wrong one, the
    backups that were meant to be kept are gone. The suite makes two backups, dates one just past the
    retention and one just inside it, and prunes.

    Fix: Remove by modification time (`find -mmin +N`) and only files named like backups, with their `.sha256`.

    References: https://www.postgresql.org/docs/current/backup.html
    """
    keep_s = backups.spec.retention_days * DAY_S
    old, recent = backups.backup(), backups.backup()
    backups.age(keep_s + 3600, old, old + ".sha256")
    backups.age(keep_s - 3600, recent, recent + ".sha256")
    backups.prune()
    left = backups.files()
    kept_old = {_name(old), _name(old) + ".sha256"} & left
    lost = {_name(recent), _name(recent) + ".sha256"} - left
    assert not kept_old, f"prune: expected backups older than {backups.spec.retention_days} days removed, found " \
                         f"{', '.join(sorted(kept_old))} kept"
    assert not lost, f"prune: expected backups inside the retention kept, found {', '.join(sorted(lost))} removed"


@pytest.mark.destructive  # the restore ends every connection to the database
@pytest.mark.control("BAK-04", severity="high", claims=["Z11", "P8", "L6"])
def test_restore_asks_and_keeps_a_safety_backup(backups, first_backup, checksums_now):
    """A restore without a yes changes nothing; with one, it first takes a safety backup that verifies.

    Rationale: a restore replaces the live database. Run by mistake, or with the wrong file, it must be
    possible to go back. The suite runs the restore without confirmation (no terminal), then with it, and
    looks for the new backup.

    Fix: Ask unless `--yes` is given, refuse without a terminal, and take a backup before touching anything.

    References: https://www.postgresql.org/docs/current/app-pgrestore.html
    """
    path, _ = first_backup
    before = checksums_now()
    files = backups.files()
    refused = backups.restore(path, confirmed=False)
    unchanged = differences(before, checksums_now())
    assert refused.returncode != 0, "restore without a yes: expected a refusal, found exit 0"
    assert not unchanged, f"restore without a yes: expected nothing changed, found {'; '.join(unchanged[:3])}"
    assert backups.files() == files, "restore without a yes: expected no new file, found one"
    done = backups.restore(path, confirmed=True)
    assert done.returncode == 0, f"restore --yes {path}: expected exit 0, found {done.returncode}: {last_words(done)}"
    new = sorted(name for name in backups.files() - files if not name.endswith(".sha256"))
    assert new, "restore: expected a safety backup of the database it replaced, found no new backup"
    folder = backups.spec.directory.rstrip("/")
    assert all(backups.verify(f"{folder}/{name}").returncode == 0 for name in new), (
        f"restore: expected its safety backup to verify, found {', '.join(new)} rejected")


@pytest.mark.destructive
@pytest.mark.control("BAK-05", severity="critical", claims=["Z11", "P8", "L6"])
def test_round_trip_into_a_fresh_stack(stack, backups, checksums_now, http, record_property):
    """A backup restored after the database's volume is lost gives every table back, row for row.

    Rationale: the backup that matters is the one restored onto a new disk. The suite writes a row, takes
    every table's row count and checksum, makes a backup, takes the stack down, removes the database's
    volumes (the backups' volume stays), starts a fresh stack, restores and compares.

    Covers: every table, row for row.

    Fix: Dump with `--create --clean --if-exists` as a superuser, keep backups on their own volume, and
    restore with `psql -v ON_ERROR_STOP=1`.

    References: https://www.postgresql.org/docs/current/backup-dump.html#BACKUP-DUMP-RESTORE
    """
    pg, api = stack.profile.postgres, stack.profile.api
    if api and api.probe_body and "POST" in api.method_roles:
        create_probe_row(stack, http)  # a row that the fresh stack's seed does not have
    before = checksums_now()
    path = backups.backup()
    stack.recreate(lose_volumes_of=pg.service)
    fresh = checksums_now()
    assert differences(before, fresh), "the fresh database already equals the backed-up one: nothing to prove"
    restored = backups.restore(path, confirmed=True)
    assert restored.returncode == 0, (f"restore --yes {path} into a fresh stack: expected exit 0, found "
                                      f"{restored.returncode}: {last_words(restored)}")
    assert_tables_as_before(before, checksums_now(), record_property, "the round trip")
    if api:
        assert_login_works(stack, http)

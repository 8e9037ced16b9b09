"""The backup tool's command lines and how it reads what the stack's commands answer, without Docker."""

import io
import subprocess
import tarfile

import pytest

from infra_conformance.probes.backups import BackupError, BackupTool
from infra_conformance.profile.ops import Backup

SPEC = Backup(service="backup", directory="/backups", backup=("crm-backup",), verify=("crm-verify",),
              restore=("crm-restore",), prune=("crm-prune",), retention_days=14)


class FakeCompose:
    """Records each one-off command and answers with what the test queued."""

    def __init__(self, *answers: tuple[int, bytes, bytes]):
        self.answers, self.calls = list(answers), []

    def one_off(self, service, *args, stdin=b"", timeout_s=300):
        self.calls.append((service, args, stdin))
        code, out, err = self.answers.pop(0) if self.answers else (0, b"", b"")
        return subprocess.CompletedProcess(args, code, out, err)


def test_backup_returns_the_path_it_printed_last():
    compose = FakeCompose((0, b"dumping\n/backups/crm-1.sql.gz\n", b""))
    assert BackupTool(compose, SPEC).backup() == "/backups/crm-1.sql.gz"
    assert compose.calls == [("backup", ("crm-backup",), b"")]


@pytest.mark.parametrize("printed", [b"", b"/tmp/crm-1.sql.gz\n", b"/backups/../etc/passwd\n", b"/backups/a/b.gz\n"])
def test_backup_refuses_a_path_outside_its_folder(printed):
    with pytest.raises(BackupError, match="expected the new backup's path in /backups"):
        BackupTool(FakeCompose((0, printed, b"")), SPEC).backup()


def test_a_failed_command_is_one_line_with_its_last_words():
    tool = BackupTool(FakeCompose((1, b"", b"pg_dump: error\ncrm-backup: the dump failed\n")), SPEC)
    with pytest.raises(BackupError, match=r"exit 1: crm-backup: the dump failed$"):
        tool.backup()


def test_restore_adds_the_confirmation_only_when_confirmed():
    compose = FakeCompose()
    tool = BackupTool(compose, SPEC)
    tool.restore("/backups/x.sql.gz", confirmed=False)
    tool.restore("/backups/x.sql.gz", confirmed=True)
    assert [call[1] for call in compose.calls] == [("crm-restore", "/backups/x.sql.gz"),
                                                   ("crm-restore", "--yes", "/backups/x.sql.gz")]


def test_place_sends_one_tar_with_private_files():
    compose = FakeCompose()
    BackupTool(compose, SPEC).place({"a.sql.gz": b"12345", "a.sql.gz.sha256": b"x  a.sql.gz\n"})
    service, args, stdin = compose.calls[0]
    assert args == ("tar", "-x", "-C", "/backups", "-f", "-")
    with tarfile.open(fileobj=io.BytesIO(stdin)) as tar:
        assert {m.name: (m.size, m.mode) for m in tar.getmembers()} == {"a.sql.gz": (5, 0o600),
                                                                        "a.sql.gz.sha256": (12, 0o600)}

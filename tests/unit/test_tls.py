"""The run's certificate and the TLS probe, against a real TLS server in a thread (no Docker)."""

import socket
import ssl
import threading

import pytest

from infra_conformance.engine import runfiles
from infra_conformance.probes import tls
from infra_conformance.probes.certificates import self_signed


@pytest.fixture
def files(tmp_path):
    cert, key = self_signed()
    folder = runfiles.write_secrets(["cert", "key", "other"], tmp_path / "secrets", {"cert": cert, "key": key})
    return folder / "cert", folder / "key"


@pytest.fixture
def serve(files):
    """``serve(minimum, ciphers, starttls)``: the port of a server that completes handshakes until the test ends;
    with ``starttls``, PostgreSQL's answer to its SSLRequest first (``b"S"``: TLS follows; ``b"N"``: none)."""
    listeners = []

    def start(minimum: ssl.TLSVersion, ciphers: str = "DEFAULT", starttls: bytes | None = None) -> int:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*files)
        context.set_ciphers(ciphers)
        context.minimum_version = minimum
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def accept():
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                try:
                    if starttls is not None:
                        assert connection.recv(8) == tls.STARTTLS["postgres"][0]
                        connection.sendall(starttls)
                        if starttls != b"S":
                            connection.close()
                            continue
                    context.wrap_socket(connection, server_side=True).close()
                except (ssl.SSLError, OSError, AssertionError):
                    connection.close()
        threading.Thread(target=accept, daemon=True).start()
        return listener.getsockname()[1]
    yield start
    for listener in listeners:
        listener.close()


def test_the_certificate_is_fresh_and_only_its_secret_differs(files):
    cert, key = files
    assert cert.read_text() != self_signed()[0]
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert len((cert.parent / "other").read_text()) == 32  # the others are still random tokens


def test_a_modern_server_is_verified_and_refuses_tls_1_1(serve, files):
    port = serve(ssl.TLSVersion.TLSv1_2)
    assert tls.negotiated(port, str(files[0])) in ("TLSv1.2", "TLSv1.3")
    assert tls.accepts(port, ssl.TLSVersion.TLSv1_1) is False


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1 is deprecated:DeprecationWarning")
def test_a_server_that_allows_tls_1_1_is_caught(serve):
    port = serve(ssl.TLSVersion.TLSv1, "DEFAULT:@SECLEVEL=0")
    assert tls.accepts(port, ssl.TLSVersion.TLSv1_1) is True


def test_another_certificate_is_not_trusted(serve, tmp_path):
    port = serve(ssl.TLSVersion.TLSv1_2)
    stranger = tmp_path / "stranger.pem"
    stranger.write_text(self_signed()[0])
    with pytest.raises(ssl.SSLCertVerificationError):
        tls.negotiated(port, str(stranger))


def test_a_postgres_server_is_asked_for_tls_first(serve):
    port = serve(ssl.TLSVersion.TLSv1_2, starttls=b"S")
    assert tls.negotiated(port, None, starttls="postgres") in tls.MODERN
    assert tls.accepts(port, ssl.TLSVersion.TLSv1_2, starttls="postgres") is True
    assert tls.accepts(port, tls.OLD, starttls="postgres") is False


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1 is deprecated:DeprecationWarning")
def test_a_postgres_server_that_allows_tls_1_1_is_caught(serve):
    port = serve(ssl.TLSVersion.TLSv1, "DEFAULT:@SECLEVEL=0", starttls=b"S")
    assert tls.accepts(port, tls.OLD, starttls="postgres") is True


def test_a_postgres_server_without_tls_gives_no_verdict(serve):
    """A refused SSLRequest is not a refused TLS 1.1: the server offers no TLS at all, and the probe says so."""
    port = serve(ssl.TLSVersion.TLSv1_2, starttls=b"N")
    for probe in (lambda: tls.negotiated(port, None, starttls="postgres"),
                  lambda: tls.accepts(port, tls.OLD, starttls="postgres")):
        with pytest.raises(tls.TlsError, match="answered b'N' to postgres's request for TLS"):
            probe()

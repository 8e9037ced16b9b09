"""What a TLS endpoint on loopback accepts: the protocol it negotiates, and whether it refuses an older one."""

from __future__ import annotations

import socket
import ssl
import struct
import warnings

LOCAL_REFUSALS = {"NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE"}  # this host could not even offer the protocol
OLD = ssl.TLSVersion.TLSv1_1  # the newest version that a server must refuse (RFC 8996)
MODERN = ("TLSv1.2", "TLSv1.3")
# A protocol's request to turn its connection into TLS, and the answer that says yes: PostgreSQL's SSLRequest.
STARTTLS = {"postgres": (struct.pack("!II", 8, 80877103), b"S")}


class TlsError(RuntimeError):
    """The probe could not reach a verdict; the message says why."""


def negotiated(port: int, cafile: str | None, host: str = "127.0.0.1", timeout_s: float = 10,
               starttls: str | None = None) -> str:
    """The protocol of a handshake that verifies the server against ``cafile`` only, e.g. ``TLSv1.3``; with
    ``cafile`` None, of one that checks no certificate (a server that makes its own, which the suite cannot
    verify). ``starttls``: the protocol to ask for TLS first, e.g. ``postgres``."""
    if cafile is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=cafile)
    with _opened(host, port, timeout_s, starttls) as raw, context.wrap_socket(raw, server_hostname=host) as connection:
        return connection.version()


def accepts(port: int, version: ssl.TLSVersion, host: str = "127.0.0.1", timeout_s: float = 10,
            starttls: str | None = None) -> bool:
    """Whether the server completes a handshake offered at most ``version`` (certificate unchecked, every
    cipher offered); a TlsError when this host's OpenSSL cannot offer that version at all."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    try:
        with warnings.catch_warnings():  # Python deprecates offering TLS 1.0 and 1.1, which is the point here
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = context.maximum_version = version
    except ValueError as error:
        raise TlsError(f"this host's OpenSSL cannot offer {version.name} ({error})") from None
    try:
        with _opened(host, port, timeout_s, starttls) as raw, context.wrap_socket(raw, server_hostname=host):
            return True
    except ssl.SSLError as error:
        if error.reason in LOCAL_REFUSALS:
            raise TlsError(f"this host's OpenSSL cannot offer {version.name} ({error.reason}), so whether the "
                           "server refuses it is unproven") from None
        return False  # the server's alert, e.g. TLSV1_ALERT_PROTOCOL_VERSION
    except ConnectionResetError:
        return False


def _opened(host: str, port: int, timeout_s: float, starttls: str | None) -> socket.socket:
    """A TCP connection to the server, past the protocol's request for TLS when ``starttls`` names one."""
    raw = socket.create_connection((host, port), timeout=timeout_s)
    if starttls is None:
        return raw
    request, yes = STARTTLS[starttls]
    try:
        raw.sendall(request)
        answer = raw.recv(1)
    except OSError:
        raw.close()
        raise
    if answer != yes:
        raw.close()
        raise TlsError(f"the server answered {answer!r} to {starttls}'s request for TLS, not {yes!r}: it offers none")
    return raw

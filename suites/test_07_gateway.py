"""Gateway: security headers, version hiding, CORS, static assets and TLS, seen from a client."""

import mimetypes
import re
import ssl

import pytest

from infra_conformance.plugins.collection import skip_not_applicable
from infra_conformance.plugins.targets import security_headers
from infra_conformance.probes import tls


@pytest.fixture(scope="module")
def gateway_response(gateway_listeners):
    """On each listener, one response from the gateway's own health route and one proxied from the API."""
    return [listener.request("GET", path) for listener in gateway_listeners for path in ("/healthz", "/api/")]


@pytest.mark.control("GW-01", severity="medium", claims=["P4", "Z4"])
def test_security_header(gateway_response, security_header):
    """The gateway sends each security header, on its own and on proxied responses, on every listener.

    Rationale: X-Content-Type-Options, X-Frame-Options, Referrer-Policy and a
    Content-Security-Policy close whole classes of browser attacks (MIME sniffing,
    clickjacking, referrer leaks, injected scripts); HSTS keeps TLS on once used.

    Fix: `add_header X-Content-Type-Options nosniff always;` (and the other headers) in
    every `server` or `location` that adds headers.

    References: https://nginx.org/en/docs/http/ngx_http_headers_module.html; https://owasp.org/www-project-secure-headers/
    """
    missing = [r.url for r in gateway_response if not r.headers.get(security_header)]
    assert not missing, f"gateway: expected header {security_header}, found none on {', '.join(missing)}"


@pytest.mark.control("GW-02", severity="low", claims=["P4", "Z4"])
def test_version_hidden(gateway_response):
    """The gateway does not reveal its software version, on any listener.

    Rationale: a version in every response tells a scanner which known exploits to try.

    Fix: `server_tokens off;` in the `http` block.

    References: https://nginx.org/en/docs/http/ngx_http_core_module.html#server_tokens
    """
    servers = {r.headers.get("Server", "") for r in gateway_response}
    revealing = sorted(s for s in servers if re.search(r"\d", s))
    assert not revealing, f"gateway: expected a Server header without a version, found {revealing}"


@pytest.mark.control("GW-04", severity="medium", claims=["P4", "Z10"])
def test_cors_only_configured_origins(stack, gateway_listeners):
    """CORS allows the configured origins and no other, on preflights and on real answers alike, on every listener.

    Rationale: a wildcard or reflected Access-Control-Allow-Origin lets any web page a
    user visits call the API with the user's browser. Foreign origins include the ones a
    loose match lets through: a configured origin with a suffix
    (`https://crm.example.test.evil.example`) or a prefix, and `null`. The headers of a
    real answer count too: an API that adds `*` behind a strict gateway is as open. A
    profile that sets `cors_origins = []` promises that no origin gets CORS headers.

    Fix: Answer `Access-Control-Allow-Origin` only for the configured origins, matched
    whole, e.g. with a `map $http_origin $cors_origin` of exact strings, and strip any
    that the application adds (`proxy_hide_header Access-Control-Allow-Origin`).

    References: https://nginx.org/en/docs/http/ngx_http_map_module.html; https://owasp.org/www-community/attacks/CORS_OriginHeaderScrutiny
    """
    api = stack.profile.api
    if not api.cors_origins and "cors_origins" not in api.model_fields_set:
        skip_not_applicable("api.cors_origins", "the profile lists no cors_origins")

    def allowed(listener, method: str, origin: str) -> str | None:
        headers = {"Origin": origin, **({"Access-Control-Request-Method": "GET"} if method == "OPTIONS" else {})}
        return listener.request(method, api.probe_path, headers=headers).headers.get("Access-Control-Allow-Origin")

    for listener in gateway_listeners:
        for origin in api.cors_origins:
            assert (found := allowed(listener, "OPTIONS", origin)) == origin, (
                f"gateway ({listener.name}): expected Access-Control-Allow-Origin {origin} for {origin}, found {found}")
    foreign = ["https://attacker.invalid", "null", *(f"{o}.evil.example" for o in api.cors_origins),
               *(o.replace("://", "://evil.", 1) for o in api.cors_origins)]
    found = [f"{method} from {origin} ({listener.name}): {value}" for listener in gateway_listeners
             for origin in foreign for method in ("OPTIONS", "GET")
             if (value := allowed(listener, method, origin)) is not None]
    assert not found, f"gateway: expected no Access-Control-Allow-Origin for a foreign origin, found {'; '.join(found)}"


TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
DAY_S = 86400
GZIP_WORTH = 256  # bytes: below this, gzip's header costs more than it saves


@pytest.mark.control("GW-06", severity="medium", claims=["Z4", "P4"])
def test_static_asset_cached_and_guarded(stack, gateway_url, http, static_path):
    """A static asset comes with its content type, a day or more of Cache-Control, every security header, and gzip.

    Rationale: assets without Cache-Control are fetched again on every page, which a Pi's
    SD card and a phone's data plan both pay for; nginx drops every server-level
    `add_header` in a `location` that adds its own, so the asset route is where the
    security headers quietly go missing; and text sent uncompressed is three times larger.

    Fix: In the asset `location`, `add_header Cache-Control "public, max-age=31536000, immutable" always;`
    and repeat each security header there; `gzip_types text/css application/javascript;`.

    References: https://nginx.org/en/docs/http/ngx_http_headers_module.html#add_header; https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Cache-Control
    """
    response = http.get(gateway_url + static_path, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200, f"GET {static_path}: expected 200, found {response.status_code}"
    found = response.headers.get("Content-Type", "").split(";")[0].strip()
    expected = mimetypes.guess_type(static_path)[0]
    problems = [f"Content-Type {found or 'none'} instead of {expected}"] if expected and found != expected else []
    age = re.search(r"max-age=(\d+)", response.headers.get("Cache-Control", ""))
    if not age or int(age.group(1)) < DAY_S:
        problems.append(f"Cache-Control {response.headers.get('Cache-Control') or 'none'} instead of a max-age of "
                        f"a day or more")
    missing = [h for h in security_headers(stack.profile.api) if not response.headers.get(h)]
    problems += [f"no {', '.join(missing)}"] if missing else []
    if found.startswith(TEXT_TYPES) and len(response.content) >= GZIP_WORTH and \
            response.headers.get("Content-Encoding") != "gzip":
        problems.append(f"{len(response.content)} bytes of {found} sent without gzip")
    assert not problems, f"GET {static_path}: {'; '.join(problems)}"


@pytest.mark.control("GW-07", severity="high", claims=["Z4", "P4"])
def test_tls_with_hsts(stack, gateway_url, http):
    """The gateway serves TLS 1.2 or later with this run's certificate, refuses TLS 1.1, and sends HSTS over TLS only.

    Rationale: on a home network or a shared Wi-Fi, plain HTTP shows every password and
    token to anyone on the path. TLS 1.0 and 1.1 have known attacks and are no longer
    supported by browsers. HSTS tells a browser to use TLS for the host from then on, so a
    downgrade to HTTP cannot be forced; sent over plain HTTP it means nothing (RFC 6797).
    The suite makes a self-signed certificate for each run and fills the profile's
    secrets with it, so the check verifies against that certificate and nothing else.

    Fix: `listen 8443 ssl;` with `ssl_protocols TLSv1.2 TLSv1.3;`, and
    `add_header Strict-Transport-Security $hsts always;` where `map $scheme $hsts` gives
    `max-age=31536000; includeSubDomains` for https and nothing for http (repeat it in
    every location that adds headers).

    References: https://nginx.org/en/docs/http/configuring_https_servers.html; https://www.rfc-editor.org/rfc/rfc6797; https://ssl-config.mozilla.org/
    """
    api = stack.profile.api
    if api.tls is None:
        skip_not_applicable("api.tls", "the profile has no [api.tls] section")
    port = stack.port(api.gateway_service, api.tls.port)
    cafile = str(stack.secrets_dir / api.tls.cert_secret)
    try:
        version = tls.negotiated(port, cafile)
        old_accepted = tls.accepts(port, tls.OLD)
    except ssl.SSLCertVerificationError as error:
        pytest.fail(f"gateway TLS on port {api.tls.port}: not this run's certificate ({error.verify_message})")
    except (OSError, tls.TlsError) as error:
        pytest.fail(f"gateway TLS on port {api.tls.port}: no verdict: {error}")
    problems = [f"negotiated {version}, expected TLS 1.2 or later"] if version not in tls.MODERN else []
    problems += [f"accepted a {tls.OLD.name} handshake"] if old_accepted else []
    for path in ("/healthz", "/api/", *api.static_paths):
        found = http.get(f"https://127.0.0.1:{port}{path}", verify=cafile).headers.get("Strict-Transport-Security")
        age = re.search(r"max-age=(\d+)", found or "")
        if not age or int(age.group(1)) < api.tls.hsts_min_age_s:
            problems.append(f"{path} over TLS: Strict-Transport-Security {found or 'none'}, expected a max-age of "
                            f"{api.tls.hsts_min_age_s} s or more")
    if plain := http.get(gateway_url + "/healthz").headers.get("Strict-Transport-Security"):
        problems.append(f"/healthz over plain HTTP: Strict-Transport-Security {plain}, which belongs on TLS only")
    assert not problems, f"gateway TLS: {'; '.join(problems)}"

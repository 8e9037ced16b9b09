"""Prometheus metrics, JSON access log, request deadline and the last-resort 500 handler."""

import asyncio
import logging
import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from .web import JSON

log = logging.getLogger("crm_api.access")

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["route"])
QUIET_ROUTES = {"/health", "/metrics"}  # logged at debug level when successful
REQUEST_TIMEOUT_S = 10
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def route_template(scope) -> str:
    """The matching route's path template, so labels and logs never hold raw paths."""
    for route in scope["app"].routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            return route.path
    return "unmatched"


class Observe:
    """ASGI middleware: metrics, one log line per request, a deadline, JSON 500s on crashes."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status, started = time.perf_counter(), 500, False

        async def send_wrapper(message):
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            # A deadline, e.g. against a hung database peer.
            await asyncio.wait_for(self.app(scope, receive, send_wrapper), REQUEST_TIMEOUT_S)
        except Exception as exc:
            timed_out = isinstance(exc, TimeoutError)
            status = 503 if timed_out else 500
            log.error("request failed", extra={"error": type(exc).__name__})
            if not started:
                message = "request timed out" if timed_out else "internal error"
                await JSON({"error": message}, status)(scope, receive, send)
        finally:
            elapsed = time.perf_counter() - start
            route = route_template(scope)
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(route).observe(elapsed)
            level = logging.DEBUG if route in QUIET_ROUTES and status < 400 else logging.INFO
            log.log(level, "request", extra={
                "method": method, "path": route, "status": status,
                "duration_ms": round(elapsed * 1000, 2)})


async def metrics(request: Request) -> Response:
    """GET /metrics in the Prometheus text exposition format."""
    return Response(generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

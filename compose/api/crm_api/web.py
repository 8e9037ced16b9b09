"""JSON request/response helpers shared by the endpoints."""

import datetime
import decimal
import json
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse

MAX_BODY_BYTES = 64 * 1024


def _encode(value):
    """Render database types JSON cannot represent natively as strings."""
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, (datetime.date, datetime.time)):  # datetime is a date
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class JSON(JSONResponse):
    """JSONResponse that also encodes UUID, Decimal and date/time values."""

    def render(self, content) -> bytes:
        return json.dumps(
            content, default=_encode, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")


class ApiError(Exception):
    """Raised by handlers; rendered as {"error": message, **extra}."""

    def __init__(self, status: int, message: str, headers: dict | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.headers, self.extra = status, message, headers, extra

    def response(self) -> JSON:
        return JSON({"error": self.message, **self.extra}, self.status, headers=self.headers)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


async def json_object(request: Request) -> dict:
    """Return the request body as a dict: 413 if too big, 400 if not JSON, 422 if not an object."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, "request body too large")
    try:
        data = json.loads(body, parse_float=decimal.Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed JSON") from None
    if not isinstance(data, dict):
        raise ApiError(422, "request body must be a JSON object")
    return data

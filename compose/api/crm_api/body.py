"""Request bodies: one JSON object of valid Unicode, or a 4xx ApiError."""

import decimal
import json

from starlette.requests import Request

from .web import ApiError

MAX_BODY_BYTES = 64 * 1024


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _check_text(value) -> None:
    """Raise UnicodeEncodeError if a string in `value`, keys included, is not valid Unicode.

    json.loads accepts a lone surrogate, both as the escape "\\ud800" and as UTF-8-encoded
    bytes; such a string cannot be encoded again, so it would fail later in the database
    driver or the response.
    """
    if isinstance(value, str):
        if not value.isascii():
            value.encode("utf-8")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


async def json_object(request: Request) -> dict:
    """Return the request body as a dict: 415 unless it is declared JSON, 413 if too big, 400 if not a JSON
    object of valid Unicode."""
    if request.headers.get("content-type", "").partition(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "expected Content-Type: application/json")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, "request body too large")
    try:
        data = json.loads(body, parse_float=decimal.Decimal, parse_constant=_reject_constant)
        _check_text(data)
    except UnicodeError:  # a ValueError too, so test it first
        raise ApiError(400, "invalid Unicode in request body") from None
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object")
    return data

"""Mutant of compose/api/crm_api/body.py: JSON is decoded without the Unicode check, so a lone
surrogate reaches the handlers and fails in the database driver."""

import decimal
import json

from starlette.requests import Request

from .web import ApiError

MAX_BODY_BYTES = 64 * 1024


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


async def json_object(request: Request) -> dict:
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
        raise ApiError(400, "request body must be a JSON object")
    return data

"""JSON responses and the error type shared by the endpoints."""

import datetime
import decimal
import json
import uuid

from starlette.responses import JSONResponse


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

"""One-JSON-object-per-line logging; never emits tracebacks or personal data."""

import json
import logging
from datetime import UTC, datetime

EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "error")


class JsonFormatter(logging.Formatter):
    """Format a record as JSON with a fixed set of fields."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if out["msg"].startswith("Traceback"):  # e.g. uvicorn's startup failure report
            out["msg"] = out["msg"].rstrip().splitlines()[-1]
        out.update((k, getattr(record, k)) for k in EXTRA_FIELDS if hasattr(record, k))
        if record.exc_info and record.exc_info[0] is not None:
            out["error"] = record.exc_info[0].__name__  # exception type only
        return json.dumps(out, default=str)

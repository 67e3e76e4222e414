"""Structured logs: one JSON object per line, each carrying the id of the request it belongs to.

A request id comes from the proxy's X-Request-Id when it is a sane token (so one id follows a
request across hosts), else is made here; it is sent back in the response. The request line
names the path without its query string: a password-reset link's token travels there.
"""

import json
import logging
import re
import secrets
import sys
import time

from flask import g, has_request_context, request

SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
request_log = logging.getLogger("coop.request")


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id()
        if rid:
            line["request_id"] = rid
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


JsonFormatter.converter = time.gmtime


def configure(level: int = logging.INFO) -> None:
    """Send every log record to stderr as JSON lines (the serve and worker commands call it)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def init_app(app) -> None:
    @app.before_request
    def _request_id():
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if SANE_REQUEST_ID.fullmatch(given) else secrets.token_hex(8)
        g.request_started = time.perf_counter()  # read by coop.ops too

    @app.after_request
    def _log_request(response):
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-Id"] = rid
        if request.endpoint != "static":
            started = g.get("request_started", time.perf_counter())
            request_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "request_id": rid,
                    "fields": {
                        "method": request.method,
                        "path": request.path,
                        "endpoint": request.endpoint,
                        "status": response.status_code,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                    }
                },
            )
        return response

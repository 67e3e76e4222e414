"""Configuration read from COOP_* environment variables; tests pass a plain mapping."""

import os
from pathlib import Path

DEFAULT_NTP_SERVERS = "0.pool.ntp.org,1.pool.ntp.org,2.pool.ntp.org,3.pool.ntp.org"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment() -> dict:
    """Return the settings named by COOP_* variables, with defaults for the rest."""
    instance = Path(os.environ.get("COOP_INSTANCE_DIR", "instance")).resolve()
    return {
        "INSTANCE_DIR": str(instance),
        "DATABASE_URL": os.environ.get("COOP_DATABASE_URL", f"sqlite:///{instance / 'coop.db'}"),
        "UPLOAD_DIR": os.environ.get("COOP_UPLOAD_DIR", str(instance / "files")),
        # Empty: the folder above. s3://key:secret@host/bucket: an S3-compatible bucket.
        "STORAGE_URL": os.environ.get("COOP_STORAGE_URL", ""),
        "MAX_FILE_BYTES": int(os.environ.get("COOP_MAX_FILE_BYTES", 25 * 1024 * 1024)),
        # PostgreSQL only: connections kept open per process, and the longest a statement runs.
        "DATABASE_POOL_SIZE": int(os.environ.get("COOP_DATABASE_POOL_SIZE", 0)),
        "STATEMENT_TIMEOUT_MS": int(os.environ.get("COOP_STATEMENT_TIMEOUT_MS", 30000)),
        # Empty: no /metrics. Otherwise the bearer token Prometheus presents to scrape it.
        "METRICS_TOKEN": os.environ.get("COOP_METRICS_TOKEN", ""),
        "RATELIMIT_STORAGE_URI": os.environ.get("COOP_RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_KEY_PREFIX": os.environ.get("COOP_RATELIMIT_KEY_PREFIX", "coop"),
        "LOGIN_RATE_LIMIT": os.environ.get("COOP_LOGIN_RATE_LIMIT", "10 per minute"),
        "UPLOAD_RATE_LIMIT": os.environ.get("COOP_UPLOAD_RATE_LIMIT", "60 per hour"),
        "SESSION_COOKIE_SECURE": _env_bool("COOP_SECURE_COOKIES", True),
        "REMEMBER_COOKIE_SECURE": _env_bool("COOP_SECURE_COOKIES", True),
        "LEDGER_ORIGIN": os.environ.get("COOP_LEDGER_ORIGIN", "coop.example/ledger"),
        # The signing key, apart from the data: a file (empty: under the user's config folder)
        # or the key itself. In production mode a key inside the instance folder stops the app.
        "LEDGER_KEY_FILE": os.environ.get("COOP_LEDGER_KEY_FILE", ""),
        "LEDGER_KEY": os.environ.get("COOP_LEDGER_KEY", ""),
        "MODE": os.environ.get("COOP_MODE", "demo"),
        # Empty: instance/tiles. Witnesses: "<verifier key> <URL>" per line or comma.
        "TILES_DIR": os.environ.get("COOP_TILES_DIR", ""),
        "WITNESSES": os.environ.get("COOP_WITNESSES", ""),
        "WITNESS_TIMEOUT": float(os.environ.get("COOP_WITNESS_TIMEOUT", 2.0)),
        # RFC 3161 TSAs: "<URL> [qualified]" per line or comma; at most one stamp per interval.
        "TSA_URLS": os.environ.get("COOP_TSA_URLS", ""),
        "TSA_INTERVAL": float(os.environ.get("COOP_TSA_INTERVAL", 60.0)),
        "TSA_TIMEOUT": float(os.environ.get("COOP_TSA_TIMEOUT", 5.0)),
        # Seconds between two checkpoint publications of one process (0: after every commit).
        "CHECKPOINT_INTERVAL": float(os.environ.get("COOP_CHECKPOINT_INTERVAL", 1.0)),
        "NTP_SERVERS": os.environ.get("COOP_NTP_SERVERS", DEFAULT_NTP_SERVERS),
        # The kernel's clock discipline (chronyd, ntpd) as a source beside the NTP servers.
        "KERNEL_CLOCK": _env_bool("COOP_KERNEL_CLOCK", True),
        "TIMEZONE": os.environ.get("COOP_TIMEZONE", "Europe/Paris"),
        # The coop's identity, printed at the top of every statement (empty: left out).
        "COOP_NAME": os.environ.get("COOP_NAME", "Coop"),
        "COOP_REGISTRATION": os.environ.get("COOP_REGISTRATION", ""),
        "COOP_ADDRESS": os.environ.get("COOP_ADDRESS", ""),
        "SMTP_URL": os.environ.get("COOP_SMTP_URL", ""),
        "MAIL_FROM": os.environ.get("COOP_MAIL_FROM", "Coop <coop@localhost>"),
        # Links in e-mails are built on this, never on the request's Host header.
        "BASE_URL": os.environ.get("COOP_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "PASSWORD_RESET_MINUTES": int(os.environ.get("COOP_PASSWORD_RESET_MINUTES", 60)),
        # The job queue: empty is a SQLite file in the instance folder (see coop/jobs.py).
        "QUEUE_URL": os.environ.get("COOP_QUEUE_URL", ""),
        "JOB_STALE_SECONDS": int(os.environ.get("COOP_JOB_STALE_SECONDS", 600)),
        # Processes rendering one issuing job's PDFs (WeasyPrint is CPU-bound: threads won't do).
        "RENDER_PROCESSES": int(os.environ.get("COOP_RENDER_PROCESSES", os.cpu_count() or 1)),
        # Item uploads larger than this (with their media) are imported by a worker.
        "IMPORT_INLINE_BYTES": int(os.environ.get("COOP_IMPORT_INLINE_BYTES", 1024 * 1024)),
        # Above this many answers a project's aggregates are computed by a worker, then kept.
        "AGGREGATE_INLINE_ANSWERS": int(os.environ.get("COOP_AGGREGATE_INLINE_ANSWERS", 5000)),
    }


DEFAULTS = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "BABEL_DEFAULT_LOCALE": "en",
    "LANGUAGES": ("en", "fr"),
    "TASKS_PER_PAGE": 20,
}


def load_secret_key(instance_dir: str) -> str | None:
    """Return COOP_SECRET_KEY, else the key `coop init` wrote to the instance folder."""
    if os.environ.get("COOP_SECRET_KEY"):
        return os.environ["COOP_SECRET_KEY"]
    path = Path(instance_dir) / "secret_key"
    return path.read_text().strip() if path.exists() else None

"""The WSGI entry point for gunicorn: `gunicorn coop.wsgi:app`."""

import os

from coop import create_app, logs

if os.environ.get("COOP_LOG_FORMAT", "json") == "json":
    logs.configure()
app = create_app()

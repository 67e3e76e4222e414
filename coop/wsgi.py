"""The WSGI entry point for gunicorn: `gunicorn coop.wsgi:app`."""

from coop import create_app

app = create_app()

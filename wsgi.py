"""WSGI entry point: `gunicorn wsgi:app`."""

from portal.app import create_app_or_exit

app = create_app_or_exit()

"""Fault tests: the portal served by real gunicorn workers while things go wrong around it."""

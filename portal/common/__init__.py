"""Pieces shared by every area: database, clock, htmx helpers, security headers."""

"""Agencies and the CHP School Resource Officer training mandate, as a portal feature plugin."""

"""Certificates: issue exactly one per completed enrollment, render it once, verify it publicly."""

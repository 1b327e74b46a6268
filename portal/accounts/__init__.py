"""Accounts: sign-up, email verification, log-in sessions, passwords and profile."""

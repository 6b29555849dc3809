"""Accounts: sign-in, sessions, OAuth, password recovery, account deletion."""

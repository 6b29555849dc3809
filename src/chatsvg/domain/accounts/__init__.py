"""Accounts: users, refresh-token families and password-reset tokens."""

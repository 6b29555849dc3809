"""Accounts: password hashing, access tokens and OAuth providers."""

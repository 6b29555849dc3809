"""Notifications: what a user is told, and when."""

"""Notifications: the feed and its unread badge."""

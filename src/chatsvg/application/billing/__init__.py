"""Billing: PayPal subscriptions, their webhook events and the sweep that catches missed ones."""

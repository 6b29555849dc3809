"""Billing: PayPal subscriptions, the events that move them, and what each event is worth."""

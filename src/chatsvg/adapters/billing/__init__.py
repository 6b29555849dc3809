"""PayPal's REST API (subscriptions, webhook verification)."""

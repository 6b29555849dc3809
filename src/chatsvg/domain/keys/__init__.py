"""API keys: what a key is, what it may do, and how its use is counted."""

"""Admin: operator use cases (users, credits, stuck jobs, sessions, orphans)."""

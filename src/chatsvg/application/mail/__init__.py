"""Mail: the outbox every mail goes through, and its delivery."""

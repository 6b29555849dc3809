"""Job queues: Dramatiq on Redis (production) and the in-process queue (local mode)."""

"""Task queues: Dramatiq on Redis (production) and the in-process queue (local mode, and the tasks an API process runs itself)."""

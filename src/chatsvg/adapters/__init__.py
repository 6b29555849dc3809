"""Adapters: the ports made real (SQL, Redis, S3, OpenAI, Socket.IO, ...) and their in-memory twins."""

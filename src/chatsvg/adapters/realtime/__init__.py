"""Realtime: Socket.IO with Redis fan-out."""

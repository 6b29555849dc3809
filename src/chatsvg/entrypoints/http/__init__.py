"""The HTTP and realtime edge (Litestar + python-socketio)."""

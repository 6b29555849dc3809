"""Entrypoints: the Litestar app, the worker, the CLI, and the one place where things are wired."""

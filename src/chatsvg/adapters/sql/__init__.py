"""SQLAlchemy (async) adapters: SQLite through aiosqlite in local mode, Postgres through asyncpg in production."""

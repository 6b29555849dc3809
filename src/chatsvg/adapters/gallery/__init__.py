"""Gallery: the cache of the public gallery's first page."""

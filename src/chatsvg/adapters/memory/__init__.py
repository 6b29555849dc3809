"""In-memory adapters: the unit of work and fakes the behaviour suite runs on."""

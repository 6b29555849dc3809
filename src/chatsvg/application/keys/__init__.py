"""API keys: managing them (the signed-in user) and the public /v1 API that they open."""

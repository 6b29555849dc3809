"""The MCP server's tools as use cases: what an AI assistant may do on a user's behalf."""

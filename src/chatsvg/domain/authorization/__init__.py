"""The OAuth 2.1 authorization server that MCP clients (AI assistants) sign in through.

Not to be confused with `domain/accounts`' sign-in with Google and GitHub, where ChatSVG is the
*client* of someone else's authorization server: here ChatSVG is the authorization server.
"""

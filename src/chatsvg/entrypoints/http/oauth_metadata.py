"""The two discovery documents of the OAuth 2.1 authorization server for MCP clients, built from
CHATSVG_PUBLIC_URL: the authorization server's metadata (RFC 8414) and the MCP endpoint's
protected-resource metadata (RFC 9728). Authlib checks the first against RFC 8414 once per URL."""

from __future__ import annotations

import functools
import logging
from typing import Any

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from chatsvg.domain.authorization.grants import SCOPES

log = logging.getLogger("chatsvg.http.oauth")

AS_METADATA_PATH = "/.well-known/oauth-authorization-server"
RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource"
MCP_PATH = "/mcp"


def issuer(public_url: str) -> str:
    return public_url.rstrip("/")


def mcp_resource(public_url: str) -> str:
    return issuer(public_url) + MCP_PATH


def resource_metadata_url(public_url: str) -> str:
    """What a 401 from /mcp names in `WWW-Authenticate: Bearer resource_metadata=...`."""
    return issuer(public_url) + RESOURCE_METADATA_PATH


@functools.lru_cache(maxsize=16)
def _server_metadata(public_url: str) -> dict[str, Any]:
    base = issuer(public_url)
    document: dict[str, Any] = {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "registration_endpoint": f"{base}/oauth/register",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": f"{base}/schema",
    }
    try:
        AuthorizationServerMetadata(document).validate()
    except ValueError as exc:
        # An http:// public URL off loopback: served anyway, but no client should trust it.
        log.warning("the OAuth metadata is not valid RFC 8414: %s", exc)
    return document


def server_metadata(public_url: str) -> dict[str, Any]:
    return dict(_server_metadata(public_url))


def resource_metadata(public_url: str) -> dict[str, Any]:
    return {
        "resource": mcp_resource(public_url),
        "authorization_servers": [issuer(public_url)],
        "scopes_supported": list(SCOPES),
        "bearer_methods_supported": ["header"],
        "resource_name": "ChatSVG",
        "resource_documentation": f"{issuer(public_url)}/schema",
    }

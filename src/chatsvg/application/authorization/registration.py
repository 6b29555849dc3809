"""Dynamic client registration (RFC 7591) and the checks of an authorization request."""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chatsvg.domain.authorization.grants import (
    InvalidClientMetadata,
    InvalidRedirectUri,
    check_redirect_uri,
)

MAX_REDIRECT_URIS = 10
MAX_URI_LENGTH = 2000
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class ClientRegistration:
    """The RFC 7591 metadata this server keeps, checked."""

    name: str
    redirect_uris: list[str]
    client_uri: str | None


def parse_redirect_uri(uri: Any) -> str:
    """Apply the registration rule (domain) to a URI's parsed parts."""
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI_LENGTH:
        raise InvalidRedirectUri("Each redirect URI must be a non-empty string.")
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in uri):
        raise InvalidRedirectUri("A redirect URI must not contain spaces or control characters.")
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise InvalidRedirectUri("A redirect URI must be an absolute URL.") from exc
    if host.startswith("[") or ":" in host:
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError as exc:
            raise InvalidRedirectUri("A redirect URI must be an absolute URL.") from exc
    _ascii_host(host)
    check_redirect_uri(
        parts.scheme.lower(),
        host,
        has_fragment="#" in uri,
        has_userinfo="@" in parts.netloc,
    )
    return uri


def parse_registration(body: Any) -> ClientRegistration:
    """RFC 7591 client metadata: redirect_uris (required), client_name, client_uri; a public
    client using the authorization code grant with PKCE and no client secret."""
    if not isinstance(body, dict):
        raise InvalidClientMetadata("The registration must be a JSON object.")
    uris = body.get("redirect_uris")
    if not isinstance(uris, list) or not uris:
        raise InvalidRedirectUri("redirect_uris must be a non-empty list.")
    if len(uris) > MAX_REDIRECT_URIS:
        raise InvalidRedirectUri(f"At most {MAX_REDIRECT_URIS} redirect URIs.")
    redirect_uris = [parse_redirect_uri(u) for u in uris]
    # What a client asks for beyond this server's one way is replaced, not refused (RFC 7591,
    # section 3.2.1): every client is registered public (`none`), for the code and refresh grants,
    # and the answer says so. Only a client that cannot use the code flow at all is refused.
    response_types = body.get("response_types", ["code"])
    if not isinstance(response_types, list) or "code" not in response_types:
        raise InvalidClientMetadata('response_types must include "code".')
    name = body.get("client_name")
    if name is not None and not isinstance(name, str):
        raise InvalidClientMetadata("client_name must be a string.")
    # Format and control characters (bidirectional overrides, zero-width) could reorder or hide
    # what the consent page shows: removed.
    name = "".join(ch for ch in (name or "") if unicodedata.category(ch) not in ("Cf", "Cc"))
    name = " ".join(name.split())[:MAX_NAME_LENGTH]
    client_uri = body.get("client_uri")
    if client_uri is not None:
        if not isinstance(client_uri, str) or len(client_uri) > MAX_URI_LENGTH:
            raise InvalidClientMetadata("client_uri must be a URL.")
        try:
            parts = urlsplit(client_uri)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            raise InvalidClientMetadata("client_uri must be a URL.") from None
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise InvalidClientMetadata("client_uri must be an http(s) URL.")
    return ClientRegistration(
        name=name or "Unnamed application", redirect_uris=redirect_uris, client_uri=client_uri
    )


def _ascii_host(host: str) -> str:
    """The host as the browser will resolve it: a name in another script in its IDNA (punycode)
    form, so that look-alike letters cannot pass for another site on the consent page."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidRedirectUri("A redirect URI's host must be a valid domain name.") from exc


def redirect_host(uri: str) -> str:
    """What the consent page shows as where the code goes: the host (and port) of the URI."""
    parts = urlsplit(uri)
    netloc = parts.netloc.rpartition("@")[2]
    if netloc.isascii():
        return netloc or uri
    port = f":{parts.port}" if parts.port is not None else ""
    return _ascii_host(parts.hostname or "") + port

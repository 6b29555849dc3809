"""What handlers receive through Litestar's dependency injection.

`app.py` provides each service from the container under a name (`handler_dependencies`); a
handler names the ones it needs as parameters, typed `Inject[...]`: `auth: Inject[AuthService]`.
They are the container's own objects, so Litestar is told not to validate them (it cannot check a
value against a Protocol, and would otherwise convert dataclasses field by field on every request).
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol, TypeVar

from litestar import Request
from litestar.params import Dependency

from chatsvg.application.accounts.auth import AuthService
from chatsvg.application.ports import AccessClaims
from chatsvg.entrypoints.http.security import access_token

T = TypeVar("T")

Inject = Annotated[T, Dependency(skip_validation=True)]


class Pingable(Protocol):
    """What GET /health/ready asks of the database, the queue and the storage."""

    async def ping(self) -> None: ...


async def provide_claims(
    request: Request[Any, Any, Any], auth: Inject[AuthService]
) -> AccessClaims:
    claims = await auth.authenticate(access_token(request))
    request.state.claims = claims
    return claims


async def provide_optional_claims(
    request: Request[Any, Any, Any], auth: Inject[AuthService]
) -> AccessClaims | None:
    token = access_token(request)
    if not token:
        return None
    try:
        return await auth.authenticate(token)
    except Exception:
        return None

"""The OAuth 2.1 authorization server for MCP clients, and the MCP server it guards."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from chatsvg.application.authorization.server import AuthorizationServer
from chatsvg.application.mcp.tools import McpTools
from chatsvg.entrypoints.http.oauth_metadata import issuer, mcp_resource
from chatsvg.entrypoints.settings import Settings

if TYPE_CHECKING:
    from chatsvg.entrypoints.http.mcp import McpEndpoint


def mcp_endpoint(**parts: Any) -> McpEndpoint:
    """Imported when the API builds it: the MCP SDK takes a second or more to import, which
    every CLI command and the worker would otherwise pay for nothing."""
    from chatsvg.entrypoints.http.mcp import McpEndpoint

    return McpEndpoint(**parts)


def resources(settings: Settings) -> tuple[str, ...]:
    """What a client may name as `resource` (RFC 8707): the MCP endpoint, or the whole API."""
    return (mcp_resource(settings.public_url), issuer(settings.public_url))


class Authorization(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    infra = providers.DependenciesContainer()
    generation = providers.DependenciesContainer()
    gallery = providers.DependenciesContainer()
    keys = providers.DependenciesContainer()

    server = providers.Singleton(
        AuthorizationServer,
        uow=infra.uow,
        clock=infra.clock,
        issuer=providers.Callable(issuer, settings.provided.public_url),
        resources=providers.Callable(resources, settings),
        limiter=keys.limiter,
    )
    tools = providers.Singleton(
        McpTools,
        uow=infra.uow,
        generation=generation.submission,
        library=gallery.library,
        limiter=keys.limiter,
        plans=infra.plans,
    )
    mcp = providers.Singleton(
        mcp_endpoint, authorization=server, tools=tools, public_url=settings.provided.public_url
    )

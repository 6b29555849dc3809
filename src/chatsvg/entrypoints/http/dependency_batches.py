"""Handler dependencies that cannot wait are resolved in place, not in a task group each.

Litestar resolves the dependencies of a handler level by level, and every level with more than
one dependency in an anyio task group: one task per dependency, on every request. Our handlers
name several of the container's objects (`Inject[...]`, each a synchronous provider of a value
built at start-up) beside the caller's claims, so each request paid for three tasks to hand over
three constants: about 13 % of an accepted prompt's instructions (docs/performance.md, seventh
round; the same cliff is litestar-org/litestar#4563).

`install()` replaces `KwargsModel.resolve_dependencies` with one that resolves synchronous
providers (and cached values) of a level one after another, where nothing can wait, and keeps
Litestar's task group for a level's asynchronous providers when there are two or more of them, so
dependencies that do wait still wait concurrently. What each dependency receives and the order of
the levels are unchanged. The replaced method is private: `tests/unit/test_dependency_batches.py`
pins both halves of the behaviour, so a Litestar upgrade that changes it fails there first.
"""

from __future__ import annotations

from typing import Any

from anyio import create_task_group
from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import DependencyContainer, resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.types import Empty

LITESTAR_OWN = KwargsModel.resolve_dependencies  # what install() replaces


def _cannot_wait(dependency: DependencyContainer) -> bool:
    provide = dependency.provide
    if provide.use_cache and provide.value is not Empty:
        return True
    return bool(provide.has_sync_callable and not provide.sync_to_thread)


async def _resolve_dependencies(
    self: KwargsModel, connection: Any, kwargs: dict[str, Any]
) -> DependencyCleanupGroup:
    cleanup_group = DependencyCleanupGroup()
    for batch in self.dependency_batches:
        waiting = []
        for dependency in batch:
            if _cannot_wait(dependency):
                await resolve_dependency(dependency, connection, kwargs, cleanup_group)
            else:
                waiting.append(dependency)
        if len(waiting) == 1:
            await resolve_dependency(waiting[0], connection, kwargs, cleanup_group)
        elif waiting:
            # As Litestar does for what may wait: concurrently, in a task group.
            try:
                async with create_task_group() as group:
                    for dependency in waiting:
                        group.start_soon(
                            resolve_dependency, dependency, connection, kwargs, cleanup_group
                        )
            except ExceptionGroup as failures:
                raise failures.exceptions[0] from failures
    return cleanup_group


def install() -> None:
    """Idempotent; called as the app is built."""
    KwargsModel.resolve_dependencies = _resolve_dependencies  # type: ignore[method-assign]


def installed() -> bool:
    return KwargsModel.resolve_dependencies is _resolve_dependencies

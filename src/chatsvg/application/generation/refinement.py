"""Refinement: a new generation made from one of the user's generations and an instruction
("make the fox orange"). It is submitted like any prompt (same idempotency, quota, credits and
queue); the model is given the previous SVG with the instruction; the generation it makes names
its parent."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from chatsvg.application.ports import ObjectStorage, UnitOfWorkFactory
from chatsvg.domain.errors import NotFound, ValidationFailed
from chatsvg.domain.generation.generations import SvgGeneration
from chatsvg.domain.generation.requests import Catalogue

if TYPE_CHECKING:
    from chatsvg.application.generation.submission import SubmitCommand


async def refined_generation(
    uow: UnitOfWorkFactory, user_id: str, parent_id: str | None
) -> SvgGeneration | None:
    """The user's generation to refine (None when not refining); another user's answers 404
    like one that does not exist."""
    if parent_id is None:
        return None
    async with uow() as unit:
        parent = await unit.generations.get(parent_id)
    if parent is None or parent.user_id != user_id:
        raise NotFound("Generation not found.")
    return parent


def inherit_from(
    parent: SvgGeneration, command: SubmitCommand, catalogue: Catalogue
) -> SubmitCommand:
    """A refinement keeps its parent's style and privacy, and its model unless another is asked
    for (or the parent's is no longer offered: then the default); it makes one drawing."""
    model = command.model
    if model is None:
        try:
            model = catalogue.model(parent.model).name
        except ValidationFailed:
            model = None
    return dataclasses.replace(
        command,
        style=parent.style,
        model=model,
        privacy=parent.privacy if command.privacy is None else command.privacy,
        n=1,
    )


async def previous_drawing(
    uow: UnitOfWorkFactory, storage: ObjectStorage, parent_id: str
) -> tuple[str, str] | None:
    """The parent's SVG and prompt, for the model; None when either is gone (deleted since)."""
    async with uow() as unit:
        parent = await unit.generations.get(parent_id)
    if parent is None:
        return None
    data = await storage.get(parent.storage_key)
    if data is None:
        return None
    return data.decode("utf-8"), parent.prompt

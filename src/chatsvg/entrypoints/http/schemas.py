"""Request bodies (msgspec Structs, camelCase, unknown members ignored) and the JSON shapes of API.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from chatsvg.application.auth import Account, SessionView
from chatsvg.domain.credits import LedgerEntry
from chatsvg.domain.generations import SvgGeneration
from chatsvg.domain.jobs import GenerationJob
from chatsvg.domain.notifications import Notification


class Body(msgspec.Struct, rename="camel", kw_only=True):
    pass


class RegisterBody(Body):
    email: str
    password: str
    name: str = ""
    agreed_to_terms: bool = False


class LoginBody(Body):
    email: str
    password: str
    remember_me: bool = False


class ProfileBody(Body):
    name: str | None = None


class PasswordBody(Body):
    current_password: str
    new_password: str


class DeleteAccountBody(Body):
    password: str


class ForgotPasswordBody(Body):
    email: str


class ResetPasswordBody(Body):
    token: str
    new_password: str


class GenerateBody(Body):
    prompt: str
    style: str | None = None
    model: str | None = None
    privacy: bool | None = None


class PrivacyBody(Body):
    privacy: bool


class SupportBody(Body):
    type: str
    subject: str
    message: str
    email: str | None = None
    context_url: str | None = None
    user_agent: str | None = None


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def user_json(account: Account) -> dict[str, Any]:
    user = account.user
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name or "",
        "avatar": user.avatar,
        "credits": account.credits,
        "plan": user.plan or "FREE",
        "createdAt": iso(user.created_at),
    }


def generation_json(generation: SvgGeneration, svg: str | None) -> dict[str, Any]:
    return {
        "id": generation.id,
        "prompt": generation.prompt,
        "style": generation.style,
        "model": generation.model,
        "privacy": generation.privacy,
        "svg": svg,
        "createdAt": iso(generation.created_at),
    }


def job_json(
    job: GenerationJob,
    generation: SvgGeneration | None = None,
    svg: str | None = None,
    *,
    include_svg: bool = True,
) -> dict[str, Any]:
    gen: dict[str, Any] | None = None
    if generation is not None:
        gen = generation_json(generation, svg if include_svg else None)
        if not include_svg:
            del gen["svg"]
    return {
        "id": job.id,
        "status": job.status.value,
        "progress": job.progress,
        "prompt": job.prompt,
        "style": job.style,
        "model": job.model,
        "privacy": job.privacy,
        "errorCode": job.error_code,
        "errorMessage": job.error_message,
        "generationId": job.generation_id,
        "generation": gen,
        "attempts": job.attempts,
        "createdAt": iso(job.created_at),
        "startedAt": iso(job.started_at),
        "finishedAt": iso(job.finished_at),
    }


def library_item_json(generation: SvgGeneration, svg_url: str) -> dict[str, Any]:
    return {
        "id": generation.id,
        "prompt": generation.prompt,
        "style": generation.style,
        "model": generation.model,
        "privacy": generation.privacy,
        "sizeBytes": generation.size_bytes,
        "createdAt": iso(generation.created_at),
        "svgUrl": svg_url,
    }


def public_item_json(generation: SvgGeneration, svg_url: str) -> dict[str, Any]:
    return {
        "id": generation.id,
        "prompt": generation.prompt,
        "style": generation.style,
        "model": generation.model,
        "createdAt": iso(generation.created_at),
        "svgUrl": svg_url,
    }


def ledger_json(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "delta": entry.delta,
        "reason": entry.reason,
        "jobId": entry.job_id,
        "createdAt": iso(entry.created_at),
    }


def session_json(view: SessionView) -> dict[str, Any]:
    return {
        "id": view.id,
        "createdAt": iso(view.created_at),
        "lastUsedAt": iso(view.last_used_at),
        "userAgent": view.user_agent,
        "ipAddress": view.ip_address,
        "current": view.current,
    }


def notification_json(notification: Notification, seen_at: datetime | None) -> dict[str, Any]:
    read_at = notification.read_at or (
        seen_at if seen_at and notification.created_at <= seen_at else None
    )
    return {
        "id": notification.id,
        "type": notification.type,
        "title": notification.title,
        "message": notification.message,
        "data": notification.data,
        "createdAt": iso(notification.created_at),
        "readAt": iso(read_at),
    }

"""Domain errors. Each carries a stable machine-readable code; the HTTP edge maps codes to statuses."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the product was not met. `code` is stable; `message` is for people."""

    code = "DOMAIN_ERROR"
    default_message = "The request could not be completed."

    def __init__(
        self, message: str | None = None, *, details: list[dict[str, Any]] | None = None
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class ValidationFailed(DomainError):
    code = "VALIDATION_ERROR"
    default_message = "The request is not valid."


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    default_message = "Authentication required."


class TokenExpired(DomainError):
    code = "TOKEN_EXPIRED"
    default_message = "The access token has expired."


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    default_message = "Invalid email or password."


class RefreshTokenReused(DomainError):
    code = "REFRESH_TOKEN_REUSED"
    default_message = "This refresh token was already used; the session has been revoked."


class InsufficientCredits(DomainError):
    code = "INSUFFICIENT_CREDITS"
    default_message = "Not enough credits for this generation."


class CsrfFailed(DomainError):
    code = "CSRF_FAILED"
    default_message = "CSRF check failed."


class EmailAuthDisabled(DomainError):
    code = "EMAIL_AUTH_DISABLED"
    default_message = "Sign-in with email and password is disabled."


class NotFound(DomainError):
    code = "NOT_FOUND"
    default_message = "Not found."


class EmailTaken(DomainError):
    code = "EMAIL_TAKEN"
    default_message = "An account with this email already exists."


class JobNotCancellable(DomainError):
    code = "JOB_NOT_CANCELLABLE"
    default_message = "Only a queued job can be cancelled."


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This idempotency key was already used with a different request."


class InvalidResetToken(DomainError):
    code = "INVALID_RESET_TOKEN"
    default_message = "This password reset link is invalid or has expired."


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    default_message = "Too many requests; try again later."

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: int = 1,
        limit: int = 0,
        reset_at: int = 0,
        remaining: int = 0,
    ) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)
        self.limit = limit
        self.reset_at = reset_at
        self.remaining = remaining  # what is left, when less than asked for (a job of n drawings)


class IllegalTransition(DomainError):
    """A job was asked to move to a state its current state cannot reach (a programming or race error)."""

    code = "ILLEGAL_TRANSITION"
    default_message = "This job cannot make that change."

"""API keys for the public /v1 API.

A key is `sk_live_` (production) or `sk_test_` (test) followed by random URL-safe characters. It is
shown once, when created; only a keyed hash of it (HMAC-SHA256 with the server's secret) and a
short displayable prefix are kept, so a copy of the database does not let anyone call the API.

A key works while it is neither revoked nor expired, from the addresses of its allow-list (none
listed: any address), for the scopes it was given. A test key never spends credits: its jobs run
on the offline model at no cost.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from chatsvg.domain.errors import DomainError, ValidationFailed

LIVE_PREFIX = "sk_live_"
TEST_PREFIX = "sk_test_"
SECRET_MIN_LENGTH = 32
DISPLAY_CHARS = 8  # random characters kept after the `sk_live_` / `sk_test_` marker
NAME_MAX = 100
DESCRIPTION_MAX = 500
IP_RULES_MAX = 50
TOKEN_MAX = 200
_URL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class Scope(StrEnum):
    GENERATE_SVG = "generate:svg"
    READ_GENERATION = "read:generation"


DEFAULT_SCOPES: tuple[str, ...] = (Scope.GENERATE_SVG.value, Scope.READ_GENERATION.value)


class KeyEnvironment(StrEnum):
    PRODUCTION = "production"
    TEST = "test"

    @property
    def marker(self) -> str:
        return LIVE_PREFIX if self is KeyEnvironment.PRODUCTION else TEST_PREFIX


class ApiKeyInvalid(DomainError):
    """Missing, unknown, revoked or expired: the caller is told no more than that."""

    code = "API_KEY_INVALID"
    default_message = "The API key is missing, invalid, revoked or expired."


class ApiKeyForbidden(DomainError):
    code = "API_KEY_FORBIDDEN"
    default_message = "This API key may not do that."


class ApiKeyLimit(DomainError):
    code = "API_KEY_LIMIT"
    default_message = "Your plan allows no more API keys. Revoke one or upgrade your plan."


def key_digest(secret: bytes, token: str) -> str:
    """The keyed hash a key is stored and looked up by."""
    return hmac.new(secret, token.encode("utf-8"), hashlib.sha256).hexdigest()


def well_formed(token: str) -> bool:
    """Shaped like a key of ours (checked before any lookup)."""
    if len(token) > TOKEN_MAX or not token.startswith((LIVE_PREFIX, TEST_PREFIX)):
        return False
    rest = token[len(LIVE_PREFIX) :]
    return len(rest) >= SECRET_MIN_LENGTH and set(rest) <= _URL_SAFE


def compose_key(environment: KeyEnvironment, random_part: str) -> str:
    if len(random_part) < SECRET_MIN_LENGTH or not set(random_part) <= _URL_SAFE:
        raise ValueError("the random part must be at least 32 URL-safe characters")
    return environment.marker + random_part


def display_prefix(token: str) -> str:
    """What lists show of a key: its marker and the first few random characters."""
    return token[: len(LIVE_PREFIX) + DISPLAY_CHARS]


def parse_ip_rules(rules: list[str] | None) -> tuple[str, ...]:
    """Addresses and CIDR ranges (IPv4 or IPv6), normalised; a bad one is a 400."""
    if not rules:
        return ()
    if len(rules) > IP_RULES_MAX:
        raise ValidationFailed(
            f"At most {IP_RULES_MAX} addresses or ranges.",
            details=[{"field": "ipWhitelist", "message": f"at most {IP_RULES_MAX} entries"}],
        )
    out: list[str] = []
    for rule in rules:
        if not isinstance(rule, str):
            raise ValidationFailed(
                "Each allowed address must be a string.",
                details=[{"field": "ipWhitelist", "message": "strings only"}],
            )
        try:
            network = ipaddress.ip_network(rule.strip(), strict=False)
        except ValueError:
            raise ValidationFailed(
                f"Not an IP address or CIDR range: {rule[:60]!r}.",
                details=[{"field": "ipWhitelist", "message": "not an IP address or CIDR range"}],
            ) from None
        mapped = (
            network.network_address.ipv4_mapped
            if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96
            else None
        )
        if mapped is not None:
            # An IPv4 range in its IPv6-mapped form: clients are compared as IPv4 (ip_allowed),
            # so the rule is kept as the IPv4 range it names, or it would match nobody.
            network = ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")
        text = (
            str(network.network_address)
            if network.num_addresses == 1 and "/" not in rule
            else str(network)
        )
        if text not in out:
            out.append(text)
    return tuple(out)


def ip_allowed(rules: tuple[str, ...], address: str) -> bool:
    if not rules:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for rule in rules:
        network = ipaddress.ip_network(rule, strict=False)
        if ip.version == network.version and ip in network:
            return True
    return False


@dataclass(frozen=True)
class NewKey:
    """A validated request for a key."""

    name: str
    description: str | None
    environment: KeyEnvironment
    ip_whitelist: tuple[str, ...]
    expires_at: datetime | None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    custom_rate_limit: int | None = None


def check_new_key(
    *,
    name: object,
    description: object,
    environment: object,
    ip_whitelist: list[str] | None,
    expires_at: datetime | None,
    now: datetime,
    scopes: list[str] | None = None,
    custom_rate_limit: int | None = None,
) -> NewKey:
    clean_name = " ".join(name.split()) if isinstance(name, str) else ""
    if not 1 <= len(clean_name) <= NAME_MAX:
        raise ValidationFailed(
            f"The name must be 1 to {NAME_MAX} characters.",
            details=[{"field": "name", "message": f"1 to {NAME_MAX} characters"}],
        )
    text: str | None = None
    if description is not None:
        if not isinstance(description, str):
            raise ValidationFailed(
                "The description must be a string.",
                details=[{"field": "description", "message": "string"}],
            )
        text = description.strip() or None
        if text is not None and len(text) > DESCRIPTION_MAX:
            raise ValidationFailed(
                f"The description must be at most {DESCRIPTION_MAX} characters.",
                details=[{"field": "description", "message": f"at most {DESCRIPTION_MAX}"}],
            )
    try:
        if environment is not None and not isinstance(environment, str):
            raise ValueError(environment)
        env = KeyEnvironment(environment or KeyEnvironment.PRODUCTION.value)
    except ValueError:
        raise ValidationFailed(
            "environment must be production or test.",
            details=[{"field": "environment", "message": "production or test"}],
        ) from None
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed(
            "expiresAt must be in the future.",
            details=[{"field": "expiresAt", "message": "in the past"}],
        )
    wanted = tuple(dict.fromkeys(scopes)) if scopes else DEFAULT_SCOPES
    unknown = [s for s in wanted if s not in DEFAULT_SCOPES]
    if unknown:
        raise ValidationFailed(
            "Unknown scope; choose from generate:svg, read:generation.",
            details=[{"field": "scopes", "message": "unknown scope"}],
        )
    if custom_rate_limit is not None and not 1 <= custom_rate_limit <= 100_000:
        raise ValidationFailed(
            "customRateLimit must be between 1 and 100000 requests per minute.",
            details=[{"field": "customRateLimit", "message": "1 to 100000"}],
        )
    return NewKey(
        name=clean_name,
        description=text,
        environment=env,
        ip_whitelist=parse_ip_rules(ip_whitelist),
        expires_at=expires_at,
        scopes=wanted,
        custom_rate_limit=custom_rate_limit,
    )


@dataclass
class ApiKey:
    id: str
    user_id: str
    name: str
    description: str | None
    key_prefix: str
    key_hash: str
    environment: KeyEnvironment
    created_at: datetime
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    ip_whitelist: tuple[str, ...] = field(default_factory=tuple)
    custom_rate_limit: int | None = None  # generations per minute, on top of the plan's rates
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    usage_count: int = 0

    @classmethod
    def create(
        cls, *, key_id: str, user_id: str, token: str, secret: bytes, spec: NewKey, now: datetime
    ) -> ApiKey:
        return cls(
            id=key_id,
            user_id=user_id,
            name=spec.name,
            description=spec.description,
            key_prefix=display_prefix(token),
            key_hash=key_digest(secret, token),
            environment=spec.environment,
            created_at=now,
            scopes=spec.scopes,
            ip_whitelist=spec.ip_whitelist,
            custom_rate_limit=spec.custom_rate_limit,
            expires_at=spec.expires_at,
        )

    @property
    def is_test(self) -> bool:
        return self.environment is KeyEnvironment.TEST

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def authorize(self, *, scope: str, address: str, now: datetime) -> None:
        """Raises ApiKeyInvalid (revoked, expired) or ApiKeyForbidden (address, scope)."""
        if not self.live(now):
            raise ApiKeyInvalid()
        if not ip_allowed(self.ip_whitelist, address):
            raise ApiKeyForbidden("Requests from this address are not allowed for this API key.")
        if scope not in self.scopes:
            raise ApiKeyForbidden(f"This API key lacks the scope {scope}.")

    def revoke(self, now: datetime) -> bool:
        """Whether this call revoked it (False when it already was)."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = now
        return True


def within_key_limit(live_keys: int, max_keys: int | None) -> None:
    """Refuse one more key when the plan's number is reached (None: unlimited)."""
    if max_keys is not None and live_keys >= max_keys:
        raise ApiKeyLimit(
            f"Your plan allows {max_keys} API key{'s' if max_keys != 1 else ''}; "
            "revoke one or upgrade your plan."
        )

"""Access tokens: HS256 JWTs (pyjwt) with the algorithm pinned on decode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from chatsvg.application.ports import AccessClaims, Clock
from chatsvg.domain.errors import TokenExpired, Unauthenticated

ALGORITHM = "HS256"


class JwtAccessTokens:
    def __init__(
        self,
        secret: str,
        clock: Clock,
        *,
        lifetime: timedelta = timedelta(minutes=15),
        issuer: str = "chatsvg",
    ) -> None:
        self._secret = secret
        self._clock = clock
        self._lifetime = lifetime
        self._issuer = issuer

    def issue(self, user_id: str, session_id: str) -> tuple[str, datetime]:
        now = self._clock.now()
        expires_at = now + self._lifetime
        payload = {
            "sub": user_id,
            "sid": session_id,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "iss": self._issuer,
            "typ": "access",
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), expires_at

    def verify(self, token: str) -> AccessClaims:
        try:
            # Expiry is checked below against our clock (one notion of "now" for the whole app).
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                options={
                    "require": ["exp", "iat", "sub", "sid"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            raise Unauthenticated("Invalid access token.") from None
        exp, sub, sid = payload.get("exp"), payload.get("sub"), payload.get("sid")
        if (
            payload.get("typ") != "access"
            or not isinstance(exp, int)
            or not isinstance(sub, str)
            or not isinstance(sid, str)
        ):
            raise Unauthenticated("Invalid access token.")
        expires_at = datetime.fromtimestamp(exp, UTC)
        if expires_at <= self._clock.now():
            raise TokenExpired()
        return AccessClaims(sub, sid, expires_at)

"""Access tokens: HS256 JWTs (pyjwt) with the algorithm pinned on decode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from chatsvg.application.ports import AccessClaims, Clock
from chatsvg.domain.errors import TokenExpired, Unauthenticated

ALGORITHM = "HS256"
_VERIFIED_MAX = 50_000


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
        # Tokens already verified, by their exact text: a browser sends the same token with every
        # request for its 15 minutes, and decoding it again (base64, JSON, HMAC, claim checks) was
        # most of the cost of authenticating. Expiry is still checked on every use.
        self._verified: dict[str, AccessClaims] = {}

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
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            if len(self._verified) >= _VERIFIED_MAX:
                self._verified.clear()  # a crude bound; the working set refills in a moment
            self._verified[token] = claims
        if claims.expires_at <= self._clock.now():
            raise TokenExpired()
        return claims

    def _decode(self, token: str) -> AccessClaims:
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
        return AccessClaims(sub, sid, datetime.fromtimestamp(exp, UTC))

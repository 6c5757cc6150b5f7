"""HS256 JSON Web Tokens (PyJWT)."""

from __future__ import annotations

from typing import Any

import jwt

from tradesim.ports.security import InvalidToken, TokenClaims

_REQUIRED = ("sub", "typ", "jti", "iat", "exp")


class JwtTokenCodec:
    """`iat`/`exp` are written in seconds as the JWT spec wants; claims carry milliseconds."""

    algorithm = "HS256"

    def __init__(self, secret: str, *, issuer: str = "tradesim") -> None:
        if len(secret) < 32:
            raise ValueError("the JWT secret must be at least 32 characters")
        self._secret = secret
        self._issuer = issuer

    def __repr__(self) -> str:
        return f"JwtTokenCodec(issuer={self._issuer!r})"

    def encode(self, claims: TokenClaims) -> str:
        payload: dict[str, Any] = {
            "iss": self._issuer,
            "sub": claims.subject,
            "typ": claims.kind,
            "jti": claims.token_id,
            "iat": claims.issued_at // 1000,
            "exp": -(-claims.expires_at // 1000),
            "iat_ms": claims.issued_at,
            "exp_ms": claims.expires_at,
        }
        if claims.family_id:
            payload["fam"] = claims.family_id
        return jwt.encode(payload, self._secret, algorithm=self.algorithm)

    def decode(self, token: str) -> TokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[self.algorithm],
                issuer=self._issuer,
                # Expiry is checked by the caller against its injected clock.
                options={"verify_exp": False, "require": list(_REQUIRED)},
            )
        except jwt.PyJWTError:
            # The library's own words (segments, padding, claim names) help only someone probing the format.
            raise InvalidToken("invalid token: not one this server signed, or damaged; log in again") from None
        kind = payload.get("typ")
        issued = payload.get("iat_ms", payload["iat"] * 1000)
        expires = payload.get("exp_ms", payload["exp"] * 1000)
        fields = (payload["sub"], payload["jti"], payload.get("fam", ""))
        if kind not in ("access", "refresh") or not all(isinstance(f, str) for f in fields):
            raise InvalidToken("invalid token: unexpected claims")
        if not isinstance(issued, int) or not isinstance(expires, int):
            raise InvalidToken("invalid token: unexpected claims")
        return TokenClaims(
            subject=payload["sub"],
            kind=kind,
            token_id=payload["jti"],
            issued_at=issued,
            expires_at=expires,
            family_id=payload.get("fam", ""),
        )

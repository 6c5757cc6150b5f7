"""Password hashing and token signing."""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.adapters.security.argon2_hasher import Argon2PasswordHasher
from tradesim.adapters.security.jwt_codec import JwtTokenCodec
from tradesim.entrypoints.settings import ConfigurationError, Settings


def token_codec(settings: Settings) -> JwtTokenCodec:
    if not settings.jwt_secret:
        # Only the roles that sign tokens are given a secret (roles.Role.signs_tokens).
        raise ConfigurationError("JWT_SECRET is not set: this process cannot sign or check tokens")
    return JwtTokenCodec(secret=settings.jwt_secret)


class Security(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    password_hasher = providers.Singleton(Argon2PasswordHasher)
    token_codec = providers.Singleton(token_codec, settings=core.settings)

"""Password hashing, token signing and the sealing of API key secrets."""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.adapters.security.argon2_hasher import Argon2PasswordHasher
from tradesim.adapters.security.jwt_codec import JwtTokenCodec
from tradesim.adapters.security.secret_box import AesGcmSecretBox
from tradesim.entrypoints.settings import ConfigurationError, Settings


def _jwt_secret(settings: Settings) -> str:
    if not settings.jwt_secret:
        # Only the roles that sign tokens are given a secret (roles.Role.signs_tokens).
        raise ConfigurationError("JWT_SECRET is not set: this process cannot sign or check tokens")
    return settings.jwt_secret


def token_codec(settings: Settings) -> JwtTokenCodec:
    return JwtTokenCodec(secret=_jwt_secret(settings))


def secret_box(settings: Settings) -> AesGcmSecretBox:
    # API key secrets are sealed with a key derived from the JWT secret (`secret_box.py`).
    return AesGcmSecretBox(secret=_jwt_secret(settings))


class Security(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    password_hasher = providers.Singleton(
        Argon2PasswordHasher,
        threads=core.settings.provided.password_hash_threads,
        queue=core.settings.provided.password_hash_queue,
    )
    token_codec = providers.Singleton(token_codec, settings=core.settings)
    secret_box = providers.Singleton(secret_box, settings=core.settings)

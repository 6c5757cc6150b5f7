"""Password hashing and token signing."""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.adapters.security.argon2_hasher import Argon2PasswordHasher
from tradesim.adapters.security.jwt_codec import JwtTokenCodec


class Security(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    password_hasher = providers.Singleton(
        Argon2PasswordHasher,
        threads=core.settings.provided.password_hash_threads,
        queue=core.settings.provided.password_hash_queue,
    )
    token_codec = providers.Singleton(JwtTokenCodec, secret=core.settings.provided.jwt_secret)

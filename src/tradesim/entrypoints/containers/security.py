"""Password hashing, token signing and the sealing of API key secrets."""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.adapters.security.argon2_hasher import Argon2PasswordHasher
from tradesim.adapters.security.jwt_codec import JwtTokenCodec
from tradesim.adapters.security.secret_box import AesGcmSecretBox


class Security(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    password_hasher = providers.Singleton(Argon2PasswordHasher)
    token_codec = providers.Singleton(JwtTokenCodec, secret=core.settings.provided.jwt_secret)
    #: API key secrets are sealed with a key derived from the JWT secret (`secret_box.py`).
    secret_box = providers.Singleton(AesGcmSecretBox, secret=core.settings.provided.jwt_secret)

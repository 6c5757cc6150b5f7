"""`SecretBox` with AES-256-GCM, its key derived by HKDF-SHA256 from the deployment's secret.

A sealed value is `v1.` + base64url(nonce ‖ ciphertext ‖ tag). The version prefix leaves room for
another key or scheme later; the fixed `info` keeps this key apart from any other key the same
deployment secret may be stretched into (the JWT signing key is the secret itself).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1."
_INFO = b"tradesim api-key secrets v1"
_NONCE = 12


class AesGcmSecretBox:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a secret to derive the sealing key from is required")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
        self._aead = AESGCM(key)

    def seal(self, secret: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._aead.encrypt(nonce, secret.encode(), None)
        return _VERSION + base64.urlsafe_b64encode(sealed).decode("ascii")

    def open(self, sealed: str) -> str:
        if not sealed.startswith(_VERSION):
            raise ValueError("not a sealed secret of this service")
        try:
            raw = base64.urlsafe_b64decode(sealed[len(_VERSION) :])
            return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], None).decode()
        except (InvalidTag, ValueError) as error:
            raise ValueError("the sealed secret was altered or sealed with another key") from error

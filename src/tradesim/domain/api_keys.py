"""API keys: how a bot written for an exchange's API signs its requests to one paper account.

A key trades exactly one account (like an exchange's sub-account key). Its secret is shown to the
user once, at creation; what is kept is the secret sealed by the deployment's key (`sealed_secret`,
opaque here), because the server needs the secret itself to check each request's signature.
"""

from __future__ import annotations

import attrs

from tradesim.domain.errors import InvalidInput

MAX_LABEL_LENGTH = 64


def _label(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if len(value) > MAX_LABEL_LENGTH or not value.isprintable():
        raise InvalidInput(f"label must be printable text of at most {MAX_LABEL_LENGTH} characters")


@attrs.frozen(slots=True)
class ApiKey:
    """`api_key` is the public name the client sends; `revoked_time` 0 while the key is live."""

    api_key_id: str
    api_key: str
    user_id: str
    account_id: str
    sealed_secret: str = attrs.field(repr=False)
    created_time: int
    label: str = attrs.field(default="", validator=_label)
    read_only: bool = False
    revoked_time: int = 0

    @property
    def revoked(self) -> bool:
        return self.revoked_time != 0

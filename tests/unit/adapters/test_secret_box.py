"""The AES-GCM secret box: sealed secrets open with the same deployment secret only."""

from __future__ import annotations

import pytest

from tradesim.adapters.security.secret_box import AesGcmSecretBox


def test_a_sealed_secret_opens_to_itself_and_does_not_contain_it() -> None:
    box = AesGcmSecretBox("deployment-secret")
    sealed = box.seal("s3cr3t-VALUE-1234567890")
    assert "s3cr3t" not in sealed
    assert box.open(sealed) == "s3cr3t-VALUE-1234567890"
    assert box.seal("same") != box.seal("same")  # a fresh nonce each time


def test_another_deployment_secret_or_an_altered_value_cannot_open_it() -> None:
    sealed = AesGcmSecretBox("deployment-secret").seal("value")
    with pytest.raises(ValueError, match="another key"):
        AesGcmSecretBox("another-secret").open(sealed)
    altered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(ValueError):
        AesGcmSecretBox("deployment-secret").open(altered)
    with pytest.raises(ValueError, match="not a sealed secret"):
        AesGcmSecretBox("deployment-secret").open("plain")

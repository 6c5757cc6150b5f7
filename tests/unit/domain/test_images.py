"""Screenshots are told by their bytes."""

from __future__ import annotations

import pytest

from tradesim.domain.images import MAX_IMAGE_BYTES, ImageTooLarge, UnsupportedImageType, check_image, sniff_image_type


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0....", "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"GIF89a...", "image/gif"),
        (b"GIF87a...", "image/gif"),
        (b"<svg xmlns=...>", None),
        (b"RIFF\x00\x00\x00\x00WAVE", None),
        (b"%PDF-1.7", None),
    ],
)
def test_sniffing(data: bytes, kind: str | None) -> None:
    assert sniff_image_type(data) == kind


def test_limits() -> None:
    with pytest.raises(ImageTooLarge):
        check_image(b"")
    with pytest.raises(ImageTooLarge):
        check_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_IMAGE_BYTES)
    with pytest.raises(UnsupportedImageType):
        check_image(b"hello")
    assert check_image(b"\x89PNG\r\n\x1a\n") == "image/png"

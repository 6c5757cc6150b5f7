"""Journal screenshots: which images are accepted, told by their bytes, never by the name or header."""

from __future__ import annotations

from typing import Final

from tradesim.domain.errors import InvalidInput, RuleViolation

MAX_IMAGE_BYTES: Final = 5 * 1024 * 1024
MAX_ATTACHMENTS_PER_ENTRY: Final = 10

#: content type -> file extension
EXTENSIONS: Final = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


class UnsupportedImageType(InvalidInput):
    code = "UNSUPPORTED_IMAGE_TYPE"


class ImageTooLarge(InvalidInput):
    code = "IMAGE_TOO_LARGE"


class TooManyAttachments(RuleViolation):
    code = "TOO_MANY_ATTACHMENTS"


def sniff_image_type(data: bytes) -> str | None:
    """The content type the magic number at the start of `data` announces, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def check_image(data: bytes) -> str:
    """The content type of an acceptable screenshot.

    Raises:
        ImageTooLarge: over `MAX_IMAGE_BYTES`, or empty.
        UnsupportedImageType: not PNG, JPEG, WebP or GIF by its magic number.
    """
    if not data:
        raise ImageTooLarge("the image is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"the image is {len(data)} bytes; the limit is {MAX_IMAGE_BYTES} bytes (5 MiB)")
    content_type = sniff_image_type(data)
    if content_type is None:
        raise UnsupportedImageType("only PNG, JPEG, WebP and GIF images are accepted (told by the file's bytes)")
    return content_type

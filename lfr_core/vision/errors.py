"""Errors the face engine raises: bad input images (user-caused) and model problems (deployment-caused)."""

from __future__ import annotations

from lfr_core.errors import InvalidInput, Misconfigured


class ImageError(InvalidInput):
    """An image that cannot or must not be decoded.

    `reason` is a short stable code (empty, not_an_image, too_many_pixels, too_large, truncated, too_small)
    that callers map to HTTP statuses and rejection records; the message says what to do.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class ModelError(Misconfigured):
    """Unknown backend name, missing or unreadable weights file, or a model that does not fit its contract."""

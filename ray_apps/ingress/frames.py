"""A frame request's own checks, before any model sees it: the declared type and size, the bytes' real
format, and the capture time."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import HTTPException

from lfr_core.live.wire import STREAM_TIME

IMAGE_TYPES = ("image/jpeg", "image/png")
_MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}


def content_type(header: str | None) -> str:
    ctype = (header or "").split(";")[0].strip().lower()
    if ctype not in IMAGE_TYPES:
        raise HTTPException(415, f"content type {ctype or 'missing'!r}; send image/jpeg or image/png")
    return ctype


def check_declared_size(header: str | None, limit: int) -> None:
    if header and header.isdigit() and int(header) > limit:
        raise HTTPException(413, f"frame of {header} bytes is above the limit of {limit}")


def check_body(body: bytes, ctype: str, limit: int) -> None:
    """The body within the limit and in the format its Content-Type names (a PNG sent as JPEG is refused
    before it costs a decoder anything)."""
    if len(body) > limit:
        raise HTTPException(413, f"frame of {len(body)} bytes is above the limit of {limit}")
    if not body.startswith(_MAGIC[ctype]):
        raise HTTPException(415, f"the body is not {ctype} (its first bytes say otherwise)")


def sniff_type(body: bytes) -> str:
    """The image type of a streamed frame, which has no Content-Type of its own."""
    for ctype, magic in _MAGIC.items():
        if body.startswith(magic):
            return ctype
    raise HTTPException(415, "the frame is neither JPEG nor PNG")




def split_streamed(message: bytes) -> tuple[str | None, bytes]:
    """(capture time as epoch seconds, or None when the camera sent 0; the image bytes)."""
    if len(message) <= STREAM_TIME.size:
        raise HTTPException(400, f"a streamed frame is {STREAM_TIME.size} bytes of capture time, then the image")
    (seconds,) = STREAM_TIME.unpack_from(message)
    return (repr(seconds) if seconds else None), message[STREAM_TIME.size:]


def capture_time(value: str | None, max_skew_s: float) -> datetime:
    """ISO 8601 with a zone, or epoch seconds; now when absent; refused when off the server clock."""
    now = datetime.now(UTC)
    if value is None or not value.strip():
        return now
    try:
        when = datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as e:
            raise HTTPException(422, f"capture time {value!r} is neither ISO 8601 nor epoch seconds") from e
    except (OverflowError, OSError) as e:
        raise HTTPException(422, f"capture time {value!r} is out of range") from e
    if when.tzinfo is None:
        raise HTTPException(422, "capture time needs a timezone (e.g. 2026-05-01T12:00:00Z)")
    skew = abs((when - now).total_seconds())
    if skew > max_skew_s:
        raise HTTPException(422, f"capture time is {skew:.0f} s from the server clock (limit {max_skew_s:.0f} s); "
                                 "check the camera's clock")
    return when

"""A frame request's own checks (ray_apps/ingress/frames.py), without Ray: the declared type and size, the bytes' real
format, the streamed frame's capture-time prefix and the capture time against the server clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import HTTPException

from ray_apps.ingress import frames

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
GIF = b"GIF89a" + b"\x00" * 16


def refused(call, *args) -> HTTPException:
    with pytest.raises(HTTPException) as caught:
        call(*args)
    return caught.value


@pytest.mark.parametrize(("header", "expected"), [
    ("image/jpeg", "image/jpeg"), ("IMAGE/PNG", "image/png"), ("image/jpeg; charset=binary", "image/jpeg"),
    (" image/png ", "image/png"),
])
def test_a_jpeg_or_png_content_type_is_read_without_its_parameters_or_case(header, expected):
    assert frames.content_type(header) == expected


@pytest.mark.parametrize(("header", "named"), [(None, "missing"), ("", "missing"), ("image/gif", "image/gif"),
                                               ("application/octet-stream", "application/octet-stream")])
def test_any_other_content_type_is_refused_with_415_naming_it(header, named):
    error = refused(frames.content_type, header)
    assert error.status_code == 415 and named in error.detail and "image/jpeg or image/png" in error.detail


def test_a_declared_size_above_the_limit_is_refused_before_the_body_is_read():
    error = refused(frames.check_declared_size, "1001", 1000)
    assert error.status_code == 413 and "1001" in error.detail and "1000" in error.detail
    # At the limit, or a header that is no number (the body's own length is checked later), passes.
    assert [frames.check_declared_size(h, 1000) for h in ("1000", None, "", "-5", "12abc")] == [None] * 5


def test_a_body_above_the_limit_is_refused_with_413_whatever_it_holds():
    error = refused(frames.check_body, JPEG + b"\x00" * 100, "image/jpeg", len(JPEG) + 99)
    assert error.status_code == 413 and str(len(JPEG) + 100) in error.detail


@pytest.mark.parametrize(("body", "declared"), [(PNG, "image/jpeg"), (JPEG, "image/png"), (GIF, "image/jpeg"),
                                                (b"", "image/png")])
def test_a_body_not_in_its_declared_format_is_refused_by_its_first_bytes(body, declared):
    error = refused(frames.check_body, body, declared, 1 << 20)
    assert error.status_code == 415 and declared in error.detail


def test_a_body_in_its_declared_format_within_the_limit_passes():
    assert frames.check_body(JPEG, "image/jpeg", len(JPEG)) is None
    assert frames.check_body(PNG, "image/png", len(PNG)) is None


def test_a_streamed_frame_has_its_type_sniffed_from_its_bytes():
    assert frames.sniff_type(JPEG) == "image/jpeg"
    assert frames.sniff_type(PNG) == "image/png"
    error = refused(frames.sniff_type, GIF)
    assert error.status_code == 415 and "neither JPEG nor PNG" in error.detail


def test_a_streamed_frame_splits_into_its_capture_time_and_image():
    sent = 1_780_000_000.25
    assert frames.split_streamed(frames.STREAM_TIME.pack(sent) + JPEG) == (repr(sent), JPEG)
    assert frames.split_streamed(frames.STREAM_TIME.pack(0.0) + PNG) == (None, PNG)  # 0: "now"


@pytest.mark.parametrize("message", [b"", b"\x00" * 8, frames.STREAM_TIME.pack(1.0)])
def test_a_streamed_frame_without_image_bytes_after_its_time_is_refused(message):
    error = refused(frames.split_streamed, message)
    assert error.status_code == 400 and "8 bytes of capture time" in error.detail


def test_the_streamed_capture_time_reads_back_as_the_time_the_camera_sent():
    sent = time.time()
    value, _ = frames.split_streamed(frames.STREAM_TIME.pack(sent) + JPEG)
    assert frames.capture_time(value, 30.0) == datetime.fromtimestamp(sent, UTC)


def test_no_capture_time_means_now():
    before = datetime.now(UTC)
    for value in (None, "", "   "):
        when = frames.capture_time(value, 30.0)
        assert before <= when <= datetime.now(UTC)


def test_a_capture_time_in_iso_8601_with_a_zone_or_in_epoch_seconds_is_taken():
    now = datetime.now(UTC).replace(microsecond=0)
    assert frames.capture_time(now.isoformat().replace("+00:00", "Z"), 30.0) == now
    assert frames.capture_time((now + timedelta(hours=2)).astimezone().isoformat(), 3 * 3600.0) == now + timedelta(hours=2)
    assert frames.capture_time(str(now.timestamp()), 30.0) == now


@pytest.mark.parametrize(("value", "reason"), [
    ("yesterday", "neither ISO 8601 nor epoch seconds"),
    ("1e20", "out of range"),
    ("2026-05-01T12:00:00", "needs a timezone"),
])
def test_a_capture_time_that_cannot_be_read_is_refused_with_422_saying_why(value, reason):
    error = refused(frames.capture_time, value, 1e12)
    assert error.status_code == 422 and reason in error.detail


@pytest.mark.parametrize("offset_s", [-120.0, 120.0])
def test_a_capture_time_off_the_server_clock_is_refused_naming_the_skew(offset_s):
    value = str(time.time() + offset_s)
    error = refused(frames.capture_time, value, 60.0)
    assert error.status_code == 422 and "limit 60 s" in error.detail and "camera's clock" in error.detail
    assert frames.capture_time(value, 180.0) is not None  # within a wider limit, the same time is taken

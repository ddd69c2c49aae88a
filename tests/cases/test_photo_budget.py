"""cases.photos.Budget: what one request may spend decoding, and one decode at a time per
process (LINGE_PHOTO_DECODERS)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from linge.cases import photos
from linge.cases.photos import Budget, PhotoRejected, prepare_all, prepare_photo


def png(width: int, height: int) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("L", (width, height), 0).save(out, "PNG")
    out.seek(0)
    return out


def test_a_request_may_decode_so_many_pixels_in_all(settings) -> None:
    settings.LINGE_PHOTO_REQUEST_PIXELS = 2_500_000
    assert len(prepare_all([png(1000, 1000), png(1000, 1000)])) == 2
    with pytest.raises(PhotoRejected, match="总像素过多"):
        prepare_all([png(1000, 1000), png(1000, 1000), png(1000, 1000)])


def test_a_request_may_decode_for_so_long(settings) -> None:
    settings.LINGE_PHOTO_DECODE_SECONDS = 0.001
    budget = Budget()
    prepare_photo(png(2000, 2000), budget)  # the first starts within its budget
    with pytest.raises(PhotoRejected, match="处理时间过长"):
        prepare_photo(png(10, 10), budget)


def test_one_decode_at_a_time_per_process(settings, monkeypatch) -> None:
    settings.LINGE_PHOTO_DECODERS = 1
    monkeypatch.setattr(photos, "WAIT_SECONDS", 0.2)
    slots = photos._slots()
    assert slots.acquire(timeout=1)  # another request is decoding
    try:
        with pytest.raises(PhotoRejected, match="照片处理繁忙"):
            prepare_photo(png(10, 10))
    finally:
        slots.release()
    assert prepare_photo(png(10, 10)).width == 10


def test_the_bomb_is_shrunk_in_its_own_mode(settings) -> None:
    """A 39.7 MP grey PNG (38 KB) comes out as a 2000 px JPEG."""
    out = io.BytesIO()
    Image.new("L", (6300, 6300), 0).save(out, "PNG", optimize=True)
    assert len(out.getvalue()) < 60_000
    out.seek(0)
    prepared = prepare_photo(out)
    assert (prepared.width, prepared.height) == (2000, 2000)

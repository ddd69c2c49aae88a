"""Helpers for the resident pages: real photos made with Pillow, a private media folder."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from linge.notify import senders

# What reached the residents' phones in this test: (phone, text). The delivery record
# keeps the one-time codes masked, so the tests read the codes here, as a phone would.
PHONE_INBOX: list[tuple[str, str]] = []


@pytest.fixture(autouse=True)
def _private_media(media: Path) -> Path:
    return media


@pytest.fixture(autouse=True)
def _phones(monkeypatch) -> list[tuple[str, str]]:
    real = senders.ConsoleSender.send

    def send(self, phone: str, text: str, key: str, **kwargs) -> bool:
        sent = real(self, phone, text, key, **kwargs)
        if sent:
            PHONE_INBOX.append((phone, text))
        return sent

    PHONE_INBOX.clear()
    monkeypatch.setattr(senders.ConsoleSender, "send", send)
    return PHONE_INBOX


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _dms(value: float) -> tuple:
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    seconds = round((minutes_full - minutes) * 60, 4)
    return (degrees, minutes, seconds)


def jpeg_bytes(
    width: int = 800, height: int = 600, gps: tuple[float, float] | None = (121.305, 28.305),
    orientation: int | None = None, color: str = "orange",
) -> bytes:
    """A real JPEG with EXIF: a camera model, a GPS position (lon, lat) and an orientation."""
    image = Image.new("RGB", (width, height), color)
    image.paste("navy", (0, 0, width // 4, height // 4))  # a mark to see rotations by
    exif = Image.Exif()
    exif[0x0110] = "LingeCam 1"  # Model
    exif[0x010F] = "Linge"  # Make
    if orientation:
        exif[0x0112] = orientation
    if gps:
        lon, lat = gps
        exif[0x8825] = {1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def write_jpeg(path: Path, **kwargs) -> Path:
    path.write_bytes(jpeg_bytes(**kwargs))
    return path


def last_code(phone: str) -> str:
    text = [text for to, text in PHONE_INBOX if to == phone][-1]
    return re.search(r"\d{6}", text).group(0)


def resolved_case(city, reporter=None, anonymous=False):
    """A case reported with a photo, accepted and resolved with an after-photo."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from linge.cases import workflow
    from linge.cases.photos import store_photo

    photo = store_photo(SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg"))
    done = workflow.submit(reporter or city["resident"], category=city.category, grid=city.grid,
                           description="垃圾桶满了 <script>alert(1)</script>", photos=[photo], anonymous=anonymous)
    case = done.case
    workflow.accept(case, city["full_time"])
    after = store_photo(SimpleUploadedFile("b.jpg", jpeg_bytes(color="green"), "image/jpeg"))
    workflow.resolve(case, city["full_time"], note="已派车清运", reply="已清运",
                     after_photos=[after])
    return done

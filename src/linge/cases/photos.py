"""Photos of a case: decoded, checked, cleaned, re-encoded and stored.

`store_photo(uploaded_file) -> Photo` is the one entry point other code
needs (the resident page for before-photos, the workbench for after-photos). It is
built from two steps that callers may also use on their own:

- `prepare_photo(file)` decodes and checks the file in memory and returns the
  re-encoded JPEG, its thumbnail and the GPS position read from the EXIF data
  (before the metadata is thrown away); nothing is written.
- `save_prepared(prepared)` writes both files through Django's default storage under
  cases/YYYY/MM/ with random names, and returns the `Photo`.

A file that is not an image, too big in bytes or in pixels (decompression bombs
included), or an HEIC photo when pillow-heif is missing, raises `PhotoRejected` with
a Chinese message, and nothing is stored.
"""

from __future__ import annotations

import hashlib
import io
import math
import secrets
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

try:  # iPhone photos (HEIC/HEIF)
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - pillow-heif is a pinned dependency
    HEIF_SUPPORTED = False

# The stored photo's longest side, in pixels. 2000, not 2048: a JPEG decodes at 1/2, 1/4
# or 1/8 scale for a fraction of the work (`_load`), and the phones' 12 MP sizes
# (4000 × 3000, 4032 × 3024) then come out at 2000 px straight from the decoder,
# where 2048 needed every 12 MP photo decoded in full.
MAX_SIDE = 2000
# A baseline JPEG is decoded at that smaller scale, one row of blocks at a time, so what
# it costs is the pixels decoded, not those in its header: a 48 MP phone photo decodes as
# 3 MP, a 108 MP one as 6.75 MP. LINGE_PHOTO_MAX_PIXELS and the request's budget count
# the pixels decoded, and such a JPEG's header may hold up to this many times the limit
# (a 1/4 scale's worth). Even at 1/8 the decoder reads every block of the file: 640 MP
# (16 × 40 MP) took 0.33 s and 9 MB. A progressive JPEG gets no such allowance (`_header`).
JPEG_HEADER_FACTOR = 16
# Android's Ultra HDR photos are JPEGs with a second image inside: Pillow calls them MPO.
JPEG_FORMATS = ("JPEG", "MPO")
# A progressive JPEG from a camera or libjpeg has about 10 scans (SOS markers); each
# further one is another pass over every coefficient of the image. (Counted in
# progressive files only: the count reads the whole file, 8 ms for 7 MB.)
MAX_JPEG_SCANS = 40
THUMB_SIDE = 320
JPEG_QUALITY = 85
GPS_IFD = 0x8825


@dataclass(frozen=True)
class Photo:
    """A photo already decoded, cleaned and stored: what the workflow attaches to a case."""

    path: str
    sha256: str
    width: int
    height: int
    thumbnail: str = ""


class PhotoRejected(Exception):
    """The file is refused; the message says why, in Chinese, for the resident."""


@dataclass(frozen=True)
class PreparedPhoto:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    sha256: str
    gps: tuple[float, float] | None  # (lon, lat) from the EXIF data, if any


def _max_bytes() -> int:
    return int(getattr(settings, "LINGE_PHOTO_MAX_BYTES", 10 * 1024 * 1024))


def _max_pixels() -> int:
    return int(getattr(settings, "LINGE_PHOTO_MAX_PIXELS", 40_000_000))


def _read(file: IO[bytes] | Any) -> bytes:
    size = getattr(file, "size", None)
    limit = _max_bytes()
    if size is not None and size > limit:
        raise PhotoRejected(_too_big(limit))
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(limit + 1)
    if len(data) > limit:
        raise PhotoRejected(_too_big(limit))
    if not data:
        raise PhotoRejected(_("照片文件是空的"))
    return data


def _too_big(limit: int) -> str:
    return _("照片太大，单张不能超过 %(mb)s MB") % {"mb": round(limit / 1024 / 1024, 1)}


def _ratio(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        numerator, denominator = value
        return float(numerator) / float(denominator)


def _gps(image: Image.Image) -> tuple[float, float] | None:
    """(lon, lat) in WGS-84 degrees from the EXIF GPS block, or None."""
    try:
        info = image.getexif().get_ifd(GPS_IFD)
        if not info:
            return None
        lat_ref, lat, lon_ref, lon = info.get(1), info.get(2), info.get(3), info.get(4)
        if not (lat and lon):
            return None

        def degrees(dms: Any) -> float:
            d, m, s = (_ratio(part) for part in dms)
            return d + m / 60 + s / 3600

        lat_value, lon_value = degrees(lat), degrees(lon)
        if str(lat_ref).upper().startswith("S"):
            lat_value = -lat_value
        if str(lon_ref).upper().startswith("W"):
            lon_value = -lon_value
        if not (-90 <= lat_value <= 90 and -180 <= lon_value <= 180):
            return None
        if lat_value == 0 and lon_value == 0:
            return None
        return round(lon_value, 7), round(lat_value, 7)
    except Exception:  # a broken GPS block only means: no position
        return None


class Budget:
    """What one request may spend on decoding photos: LINGE_PHOTO_REQUEST_PIXELS pixels
    in all (as each file will decode, worked out from its header before decoding) and LINGE_PHOTO_DECODE_SECONDS
    of decoding. Every decode also holds one of the process's LINGE_PHOTO_DECODERS slots,
    so a burst of uploads queues instead of taking every CPU and every worker thread."""

    def __init__(self) -> None:
        self.pixels = int(getattr(settings, "LINGE_PHOTO_REQUEST_PIXELS", 120_000_000))
        self.seconds = float(getattr(settings, "LINGE_PHOTO_DECODE_SECONDS", 10))

    def charge(self, pixels: int) -> None:
        if pixels > self.pixels:
            raise PhotoRejected(_("这些照片的总像素过多，请减少照片数量或换用较小的照片"))
        self.pixels -= pixels

    @contextmanager
    def decoding(self) -> Iterator[None]:
        if self.seconds <= 0:
            raise PhotoRejected(_("照片处理时间过长，请减少照片数量或换用较小的照片"))
        slots = _slots()
        if not slots.acquire(timeout=min(WAIT_SECONDS, self.seconds + WAIT_SECONDS / 2)):
            raise PhotoRejected(_("照片处理繁忙，请稍后再试"))
        start = time.monotonic()
        try:
            yield
        finally:
            slots.release()
            self.seconds -= time.monotonic() - start


WAIT_SECONDS = 15.0  # longest wait for a decode slot before the upload is refused
_slot_lock = threading.Lock()
_slot_state: dict[str, Any] = {"count": 0, "semaphore": None}


def _slots() -> threading.BoundedSemaphore:
    count = int(getattr(settings, "LINGE_PHOTO_DECODERS", 1))
    with _slot_lock:
        if _slot_state["count"] != count:
            _slot_state["count"], _slot_state["semaphore"] = count, threading.BoundedSemaphore(count)
        return _slot_state["semaphore"]


def _too_many(limit: int) -> str:
    return _("照片像素过多（超过 %(mp)s 百万像素），请换一张") % {"mp": limit // 1_000_000}


def _header(data: bytes, budget: Budget) -> Image.Image:
    """Open the file and read its header only: no pixel is decoded yet. A JPEG is set to
    decode at the scale it needs (`_draft`), and its size is then the decoded size."""
    limit = _max_pixels()
    jpeg_limit = limit * JPEG_HEADER_FACTOR
    # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; turn both into
    # errors at the largest header we could take, before any pixel is decoded.
    Image.MAX_IMAGE_PIXELS = jpeg_limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected(_too_many(jpeg_limit if data[:2] == b"\xff\xd8" else limit)) from None
    except UnidentifiedImageError:
        if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftyphevc"):
            raise PhotoRejected(
                _("暂不支持 HEIC 格式的照片，请在手机设置中改为“兼容性最佳”后重拍")
            ) from None
        raise PhotoRejected(_("不是可识别的图片文件，请上传照片（JPEG、PNG、HEIC）")) from None
    except Exception:
        raise PhotoRejected(_("图片已损坏，无法读取，请换一张")) from None
    jpeg = image.format in JPEG_FORMATS
    # A progressive JPEG keeps every coefficient of the full size in memory whatever the
    # scale, so only a baseline one gets the allowance, and a progressive one with more
    # scans than any encoder writes is refused: each scan is one more pass over them all.
    scaled = jpeg and not image.info.get("progressive")
    header = image.width * image.height
    if header > (jpeg_limit if scaled else limit):
        raise PhotoRejected(_too_many(jpeg_limit if scaled else limit))
    if jpeg and not scaled and data.count(b"\xff\xda") > MAX_JPEG_SCANS:
        raise PhotoRejected(_("图片已损坏，无法读取，请换一张"))
    if jpeg:
        _draft(image)
    pixels = image.width * image.height if scaled else header
    if pixels > limit:
        raise PhotoRejected(_too_many(limit))
    budget.charge(pixels)
    return image


def _draft(image: Image.Image) -> None:
    # A JPEG is decoded at the smallest scale (1/2, 1/4, 1/8) whose longest side is still
    # at least MAX_SIDE. Pillow scales only when both sides stay at least as large as
    # asked, so it is asked for the photo's own shape: (2000, 1500) for a 4000 × 3000.
    width, height = image.size
    if max(width, height) > MAX_SIDE:
        k = MAX_SIDE / max(width, height)
        image.draft("RGB", (math.ceil(width * k), math.ceil(height * k)))


def _load(image: Image.Image) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected(_too_many(_max_pixels())) from None
    except Exception:
        raise PhotoRejected(_("图片已损坏，无法读取，请换一张")) from None
    return image


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # No exif=, no icc_profile=, and no comment (Pillow would copy the JPEG's COM
    # marker from image.info): the new file carries no metadata at all.
    image.info.pop("comment", None)
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _shrink(image: Image.Image) -> Image.Image:
    """Down to MAX_SIDE before any conversion: the cost of a 40 MP image is paid once, in
    its own mode (one channel for grey): a box reduction by the whole factor (fast),
    then LANCZOS over what is left."""
    if image.mode not in ("RGB", "L", "RGBA", "LA"):
        image = image.convert("RGBA")
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=1.0)
    return image


def prepare_photo(file: IO[bytes] | Any, budget: Budget | None = None) -> PreparedPhoto:
    """Decode, check and clean one photo in memory. Raises PhotoRejected.

    `budget`: shared by the photos of one request (a new one when not given)."""
    budget = budget or Budget()
    data = _read(file)
    image = _header(data, budget)
    with budget.decoding():
        image = _load(image)
        gps = _gps(image)
        exif = image.getexif()
        image = _shrink(image)
        try:
            image.info["exif"] = exif.tobytes()
            ImageOps.exif_transpose(image, in_place=True)
        except Exception:  # a broken orientation tag: keep the image as it is
            pass
        if image.mode not in ("RGB", "L"):
            rgba = image.convert("RGBA")
            background = Image.new("RGB", rgba.size, "white")
            background.paste(rgba, mask=rgba.getchannel("A"))
            image = background
        elif image.mode == "L":
            image = image.convert("RGB")
        # At most MAX_SIDE already (_shrink): stored as it is, then made the thumbnail
        # in place, with no copy of its pixels (a box reduction by the whole factor,
        # then LANCZOS over what is left, as _shrink does).
        jpeg, width, height = _jpeg(image, JPEG_QUALITY), image.width, image.height
        image.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS, reducing_gap=1.0)
        thumb = _jpeg(image, 75)
    return PreparedPhoto(
        jpeg=jpeg, thumbnail=thumb, width=width, height=height,
        sha256=hashlib.sha256(jpeg).hexdigest(), gps=gps,
    )


def save_prepared(prepared: PreparedPhoto) -> Photo:
    """Write a prepared photo and its thumbnail under cases/YYYY/MM/ with a random name."""
    folder = timezone.localtime().strftime("cases/%Y/%m")
    name = secrets.token_hex(16)
    path = default_storage.save(f"{folder}/{name}.jpg", ContentFile(prepared.jpeg))
    thumb = default_storage.save(f"{folder}/thumbs/{name}.jpg", ContentFile(prepared.thumbnail))
    return Photo(path=path, sha256=prepared.sha256, width=prepared.width,
                 height=prepared.height, thumbnail=thumb)


def delete_photo(photo: Photo) -> None:
    """Remove a stored photo that no case took (the submit failed after storing)."""
    for name in (photo.path, photo.thumbnail):
        if name:
            default_storage.delete(name)


def store_photo(uploaded_file: IO[bytes] | Any) -> Photo:
    """Check, clean and store one uploaded photo. Raises PhotoRejected."""
    return save_prepared(prepare_photo(uploaded_file))


def discard(photos: Iterable[Photo]) -> None:
    for photo in photos:
        delete_photo(photo)


def save_all(prepared: Iterable[PreparedPhoto]) -> list[Photo]:
    """Write prepared photos; if one write fails, the ones written are removed."""
    stored: list[Photo] = []
    try:
        for item in prepared:
            stored.append(save_prepared(item))
    except BaseException:
        discard(stored)
        raise
    return stored


def prepare_all(files: Iterable[IO[bytes] | Any]) -> list[PreparedPhoto]:
    """Decode and check the photos of one request against one Budget."""
    budget = Budget()
    return [prepare_photo(f, budget) for f in files]


def store_all(files: Iterable[IO[bytes] | Any]) -> list[Photo]:
    """Check every file first, then store them all; nothing is stored when one is
    refused (PhotoRejected)."""
    return save_all(prepare_all(files))

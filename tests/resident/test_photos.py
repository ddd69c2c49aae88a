"""cases.photos: decoded by Pillow, limited, cleaned of metadata, turned upright, stored."""

from __future__ import annotations

import io

import pillow_heif
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from linge.cases.photos import PhotoRejected, prepare_photo, store_photo
from linge.cases.workflow import Photo
from tests.resident.conftest import jpeg_bytes, stored_files


def upload(data: bytes, name: str = "p.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, "image/jpeg")


def test_store_photo_cleans_and_stores(media) -> None:
    photo = store_photo(upload(jpeg_bytes(4000, 3000)))
    assert isinstance(photo, Photo)
    assert photo.path.startswith("cases/") and photo.path.endswith(".jpg")
    assert "/thumbs/" in photo.thumbnail
    assert (photo.width, photo.height) == (2000, 1500)
    with default_storage.open(photo.path) as f:
        stored = Image.open(f)
        stored.load()
        assert stored.format == "JPEG"
        assert not stored.getexif() and "exif" not in stored.info and "icc_profile" not in stored.info
    with default_storage.open(photo.thumbnail) as f:
        assert max(Image.open(f).size) == 320
    assert len(stored_files(media)) == 2


@pytest.mark.parametrize("size, decoded", [
    ((4000, 3000), (2000, 1500)),  # a 12 MP phone photo: decoded at 1/2 scale
    ((3024, 4032), (1512, 2016)),  # upright: the same
    ((6000, 4500), (3000, 2250)),  # 27 MP: at 1/2 (1/4 would be too small), shrunk after
    ((1600, 1200), (1600, 1200)),  # already small: in full
])
def test_a_camera_photo_is_decoded_at_the_scale_it_needs(size, decoded) -> None:
    from linge.cases.photos import Budget, _header, _load

    image = _load(_header(jpeg_bytes(*size, gps=None), Budget()))
    assert image.size == decoded


def grey_jpeg(width: int, height: int) -> bytes:
    """A large JPEG cheaply: one grey channel, one flat colour with a mark."""
    image = Image.new("L", (width, height), 200)
    image.paste(40, (0, 0, width // 4, height // 4))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def test_a_48_megapixel_phone_photo_is_taken(settings, media) -> None:
    """Over the pixel limit in its header, but decoded at 1/4 scale: 2000 × 1500, what
    the limit and the request's budget count."""
    settings.LINGE_PHOTO_MAX_PIXELS = 40_000_000
    settings.LINGE_PHOTO_REQUEST_PIXELS = 10_000_000
    photo = store_photo(upload(grey_jpeg(8000, 6000)))
    assert (photo.width, photo.height) == (2000, 1500)


def test_a_jpeg_header_past_sixteen_times_the_limit_is_refused(settings, media) -> None:
    settings.LINGE_PHOTO_MAX_PIXELS = 4_000_000  # a JPEG header may hold 64 MP
    with pytest.raises(PhotoRejected, match="超过 64 百万像素"):
        store_photo(upload(grey_jpeg(10000, 7000)))  # 70 MP
    photo = store_photo(upload(grey_jpeg(8000, 6000)))  # 48 MP, decoded as 3 MP
    assert (photo.width, photo.height) == (2000, 1500)


def test_a_progressive_jpeg_gets_no_such_allowance(settings, media) -> None:
    """A progressive JPEG holds every coefficient of its full size while it decodes:
    its header counts, as a PNG's does."""
    settings.LINGE_PHOTO_MAX_PIXELS = 4_000_000
    out = io.BytesIO()
    Image.new("L", (8000, 6000), 200).save(out, "JPEG", progressive=True)
    assert Image.open(io.BytesIO(out.getvalue())).info["progressive"]
    with pytest.raises(PhotoRejected, match="超过 4 百万像素"):
        store_photo(upload(out.getvalue()))  # 48 MP, though it would decode as 3 MP
    out = io.BytesIO()
    Image.new("L", (2400, 1600), 200).save(out, "JPEG", progressive=True)  # 3.84 MP
    assert store_photo(upload(out.getvalue())).width == 2000


def test_a_jpeg_with_more_scans_than_any_camera_writes_is_refused(media) -> None:
    """Each scan of a progressive JPEG is one more pass over all of it: a file that
    repeats its last scan 50 times is refused before decoding."""
    out = io.BytesIO()
    Image.new("RGB", (640, 480), "orange").save(out, "JPEG", progressive=True)
    data = out.getvalue()
    assert 5 <= data.count(b"\xff\xda") <= 12  # a normal progressive file: taken
    assert prepare_photo(upload(data)).width == 640
    last_scan = data[data.rindex(b"\xff\xda"):-2]  # up to the end-of-image marker
    crafted = data[:-2] + last_scan * 50 + data[-2:]
    with pytest.raises(PhotoRejected, match="损坏"):
        store_photo(upload(crafted))
    assert stored_files(media) == []


def test_an_ultra_hdr_photo_is_scaled_as_a_jpeg(settings, media) -> None:
    """Android's Ultra HDR photos are JPEGs with a second image inside (MPO to Pillow)."""
    settings.LINGE_PHOTO_MAX_PIXELS = 4_000_000
    image, gain_map = Image.new("RGB", (8000, 6000), "orange"), Image.new("L", (200, 150))
    out = io.BytesIO()
    image.save(out, "MPO", save_all=True, append_images=[gain_map.convert("RGB")])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    photo = store_photo(upload(out.getvalue()))
    assert (photo.width, photo.height) == (2000, 1500)


def test_a_png_gets_no_such_allowance(settings, media) -> None:
    """Only a JPEG decodes at a smaller scale: a PNG over the limit is refused."""
    settings.LINGE_PHOTO_MAX_PIXELS = 1_000_000
    out = io.BytesIO()
    Image.new("L", (1200, 1000), 0).save(out, "PNG")
    with pytest.raises(PhotoRejected, match="超过 1 百万像素"):
        store_photo(upload(out.getvalue(), "p.png"))
    assert stored_files(media) == []


def test_a_jpeg_comment_is_not_kept() -> None:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), "orange").save(out, "JPEG", comment="张三 13800001111")
    assert Image.open(io.BytesIO(out.getvalue())).info["comment"]  # the comment is there
    prepared = prepare_photo(upload(out.getvalue()))
    for data in (prepared.jpeg, prepared.thumbnail):
        assert "comment" not in Image.open(io.BytesIO(data)).info


def test_gps_is_read_before_the_metadata_goes() -> None:
    prepared = prepare_photo(upload(jpeg_bytes(gps=(121.305, 28.305))))
    lon, lat = prepared.gps
    assert abs(lon - 121.305) < 1e-5 and abs(lat - 28.305) < 1e-5
    assert prepare_photo(upload(jpeg_bytes(gps=None))).gps is None


def test_orientation_is_applied() -> None:
    # Orientation 6: the camera was turned; the stored photo stands upright (portrait).
    prepared = prepare_photo(upload(jpeg_bytes(800, 600, orientation=6)))
    assert (prepared.width, prepared.height) == (600, 800)


def test_png_with_transparency_becomes_jpeg(media) -> None:
    out = io.BytesIO()
    Image.new("RGBA", (50, 40), (255, 0, 0, 0)).save(out, "PNG")
    photo = store_photo(upload(out.getvalue(), "p.png"))
    with default_storage.open(photo.path) as f:
        assert Image.open(f).format == "JPEG"


def test_heic_is_decoded() -> None:
    # An iPhone-style HEIC written by pillow-heif's own encoder (x265), half red, half
    # blue, so a decoder that only read the header would not pass.
    image = Image.new("RGB", (640, 480), (220, 20, 20))
    image.paste((20, 20, 220), (320, 0, 640, 480))
    out = io.BytesIO()
    pillow_heif.from_pillow(image).save(out, format="HEIF", quality=90)
    data = out.getvalue()
    assert data[4:12] == b"ftypheic"
    prepared = prepare_photo(upload(data, "IMG_0001.HEIC"))
    assert (prepared.width, prepared.height) == (640, 480)
    decoded = Image.open(io.BytesIO(prepared.jpeg))
    assert decoded.format == "JPEG"
    left, right = decoded.getpixel((100, 240)), decoded.getpixel((540, 240))
    assert left[0] > 180 and left[2] < 60, left
    assert right[2] > 180 and right[0] < 60, right


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "空的"),
        (jpeg_bytes()[:400], "损坏"),  # a truncated JPEG
        (b"hello, I am a text file", "不是可识别的图片"),
    ],
)
def test_not_images_are_refused(data: bytes, message: str, media) -> None:
    with pytest.raises(PhotoRejected, match=message):
        store_photo(upload(data))
    assert stored_files(media) == []


def test_too_many_bytes(settings, media) -> None:
    settings.LINGE_PHOTO_MAX_BYTES = 1000
    with pytest.raises(PhotoRejected, match="照片太大"):
        store_photo(upload(jpeg_bytes()))
    assert stored_files(media) == []


def test_too_many_pixels(settings, media) -> None:
    settings.LINGE_PHOTO_MAX_PIXELS = 100 * 100
    with pytest.raises(PhotoRejected, match="像素过多"):
        store_photo(upload(jpeg_bytes(200, 200)))
    assert stored_files(media) == []


def test_decompression_bomb(media) -> None:
    out = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(out, "PNG")  # 900 MP in about 100 KB
    assert len(out.getvalue()) < 200_000
    with pytest.raises(PhotoRejected, match="像素过多"):
        store_photo(upload(out.getvalue(), "bomb.png"))
    assert stored_files(media) == []

"""Benchmark `cases.photos.store_photo` on a 12 MP camera photo against Pillow alone.

    python bench/bench_photos.py [--runs 5]

The photo is a real 4000 × 3000 JPEG with EXIF (camera, GPS, orientation), as a
resident's phone sends it. store_photo decodes it, checks it, reads the GPS position,
turns it upright, strips the metadata, scales it to 2000 px, writes it and a 320 px
thumbnail under a temporary media folder. The baseline is the bare minimum of that in
the same run: Pillow decoding the same bytes at the scale it needs (JPEG draft mode:
1/2 here, 2000 × 1500) and one JPEG encode, nothing written. Target: under 5 s per photo (a resident waits for it).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TARGET_SECONDS = 5.0


def best_of(runs: int, function) -> float:
    best = math.inf
    for _ in range(runs):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def camera_jpeg(Image) -> bytes:  # noqa: N803 - PIL's module, imported after setup
    """A 4000 × 3000 JPEG with a camera model, a GPS position and orientation 6."""
    image = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Linge", "LingeCam 1", 6
    exif[0x8825] = {1: "N", 2: (28, 18, 18.0), 3: "E", 4: (121, 18, 18.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="linge-bench-photos-") as var_dir:
        os.environ["LINGE_VAR_DIR"] = var_dir  # before django.setup(): media go there
        os.environ.pop("LINGE_DATABASE_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linge.settings")
        import django

        django.setup()
        from django.core.files.uploadedfile import SimpleUploadedFile
        from PIL import Image

        from linge.cases.photos import store_photo

        data = camera_jpeg(Image)

        def app() -> None:
            photo = store_photo(SimpleUploadedFile("IMG_0001.jpg", data, "image/jpeg"))
            assert (photo.width, photo.height) == (1500, 2000), (photo.width, photo.height)

        def baseline() -> None:
            image = Image.open(io.BytesIO(data))
            image.draft("RGB", (2000, 1500))
            image.load()
            image.save(io.BytesIO(), "JPEG", quality=85)

        app_s = best_of(args.runs, app)
        base_s = best_of(args.runs, baseline)
    print(f"store_photo, 12 MP JPEG: {app_s:.3f} s (best of {args.runs})")
    print(f"baseline, Pillow decode at 1/2 + encode: {base_s:.3f} s (best of {args.runs})")
    print(f"store_photo / baseline: {app_s / base_s:.2f}×")
    met = app_s < TARGET_SECONDS
    print(f"target < {TARGET_SECONDS:.0f} s per photo: {'met' if met else 'NOT met'} "
          f"({app_s:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

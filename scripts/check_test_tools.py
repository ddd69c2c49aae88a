"""Run by `make test` before pytest: the machine tools the suite needs, or stop at once
with the command that installs them (instead of skips or failures deep in a run).

- Chromium, for the browser tests (Playwright drives Debian's /usr/bin/chromium;
  `LINGE_CHROMIUM` points elsewhere);
- a TrueType Chinese font, for the QR posters (reportlab embeds TrueType only) and for
  pages rendered in Chromium;
- poppler-utils (pdftotext, pdftoppm), to read the posters back.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# The TrueType fonts resident/posters.py can embed (Noto CJK's CFF outlines it cannot).
TRUETYPE_CJK = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


def missing() -> list[tuple[str, str]]:
    """(what is missing, the Debian package that brings it)."""
    gaps = []
    chromium = os.environ.get("LINGE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        gaps.append((f"Chromium ({chromium})", "chromium"))
    if not any(Path(p).exists() for p in TRUETYPE_CJK):
        gaps.append(("a TrueType Chinese font", "fonts-wqy-microhei"))
    for tool in ("pdftotext", "pdftoppm"):
        if not shutil.which(tool):
            gaps.append((tool, "poppler-utils"))
            break
    return gaps


def main() -> int:
    gaps = missing()
    if not gaps:
        return 0
    packages = " ".join(dict.fromkeys(package for _what, package in gaps))
    print("make test needs tools this machine lacks:", file=sys.stderr)
    for what, package in gaps:
        print(f"  - {what} (Debian package {package})", file=sys.stderr)
    print(f"Install them with:\n  sudo apt-get install {packages}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""The report page weighs at most 60 KB over the wire, HTML and every CSS and JS it
references, as served by the live server (measured uncompressed, the worst case)."""

from __future__ import annotations

import re
import urllib.request

import pytest
from django.core.management import call_command

from linge.resident.qr import grid_qr_path

LIMIT = 60 * 1024


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, url
        return response.read()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["report", "grid"])
def test_page_weight(live_server, city, path: str, capsys) -> None:
    if path == "report":
        call_command("import_categories")  # the full packaged tree: 12 大类, 58 小类
        url = live_server.url + "/report?" + grid_qr_path(city.grid.code).split("?")[1] + \
            f"&g={city.grid.code}"
    else:
        url = live_server.url + grid_qr_path(city.grid.code)
    html = fetch(url)
    text = html.decode()
    assets = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', text)
    assets += re.findall(r'<script[^>]+src="([^"]+)"', text)
    assert any(a.endswith(".css") for a in assets)
    if path == "report":
        assert any(a.endswith(".js") for a in assets)
    sizes = {a: len(fetch(live_server.url + a)) for a in assets}
    total = len(html) + sum(sizes.values())
    with capsys.disabled():
        print(f"\n{path} page: HTML {len(html)} B + assets {sizes} = {total} B "
              f"({total / 1024:.1f} KB of {LIMIT // 1024} KB)")
    assert total <= LIMIT
    assert not re.search(r'(src|href)="https?://', text), "no CDN, nothing from elsewhere"

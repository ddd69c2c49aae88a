"""/work/hot/: hot and hard issues, and the village's deliberation agenda."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from linge.cases import workflow
from linge.cases.policy import visible_cases
from linge.insights.hot import clusters, deliberations_for_village, distance_m
from linge.insights.models import Deliberation
from tests.conftest import City


def burn(city: City, lon: float, lat: float, days_ago: int, text: str):
    return workflow.submit(city["resident"], category=city.urgent, description=text,
                           grid=city.grid, lon=lon, lat=lat,
                           now=timezone.now() - timedelta(days=days_ago)).case


def make_hotspot(city: City) -> list:
    texts = ["村口空地有人焚烧垃圾，浓烟很大", "又有人在村口焚烧垃圾", "村口焚烧塑料垃圾，气味刺鼻",
             "晚上村口焚烧垃圾"]
    near = [burn(city, 121.3050 + i * 0.0003, 28.3050, 10 - i * 2, t)
            for i, t in enumerate(texts)]
    burn(city, 121.309, 28.309, 5, "远处焚烧秸秆")  # 600 m away: not in the cluster
    return near


def test_clusters_by_category_distance_and_time(city: City) -> None:
    near = make_hotspot(city)
    found = clusters(visible_cases(city["village_staff"]))
    assert len(found) == 1
    hot = found[0]
    assert set(hot.numbers) == {c.number for c in near} and hot.category_name == "露天焚烧"
    assert "焚烧" in hot.keywords and "垃圾" in hot.keywords
    assert distance_m(121.305, 28.305, 121.306, 28.305) == __import__("pytest").approx(98, abs=2)
    # Outside the time window the same place does not cluster.
    assert clusters(visible_cases(city["village_staff"]), window=timedelta(days=1)) == []


def test_village_staff_put_a_cluster_on_the_agenda(client: Client, city: City) -> None:
    near = make_hotspot(city)
    client.force_login(city["village_staff"])
    page = client.get("/work/hot/")
    assert page.status_code == 200 and "列入民主恳谈" in page.content.decode()
    numbers = ",".join(c.number for c in near)
    response = client.post("/work/hot/agenda/", {
        "title": "村口焚烧垃圾问题", "meeting_on": "2026-12-10", "village": city.village.pk,
        "category": city.urgent.pk, "keywords": "焚烧 垃圾", "numbers": numbers})
    assert response.status_code == 302
    item = Deliberation.objects.get()
    assert item.case_numbers == sorted(c.number for c in near)
    client.post(f"/work/hot/agenda/{item.pk}/", {"outcome": "村里统一设置垃圾收集点，禁止焚烧"})
    public = deliberations_for_village(city.village.pk)
    assert public[0]["title"] == "村口焚烧垃圾问题" and "收集点" in public[0]["outcome"]
    assert deliberations_for_village(city.other_village.pk) == []


def test_only_the_village_may_set_its_agenda(client: Client, city: City) -> None:
    client.force_login(city["full_time"])
    response = client.post("/work/hot/agenda/", {
        "title": "x", "meeting_on": "2026-12-10", "village": city.village.pk})
    assert response.status_code == 403 and not Deliberation.objects.exists()
    assert client.get("/work/hot/").status_code == 200
    client.logout()
    assert client.get("/work/hot/").status_code == 302


def test_a_double_tap_puts_the_item_on_the_agenda_once(client: Client, city: City) -> None:
    near = make_hotspot(city)
    client.force_login(city["village_staff"])
    form = {"title": "村口焚烧垃圾问题", "meeting_on": "2026-12-10", "village": city.village.pk,
            "category": city.urgent.pk, "numbers": ",".join(c.number for c in near)}
    for _ in range(2):
        assert client.post("/work/hot/agenda/", form).status_code == 302
    assert Deliberation.objects.count() == 1
    # A cluster of 300 cases fits in the form (it did not at 4,000 characters).
    big = dict(form, title="大议题", numbers=",".join(["20261129-000123"] * 300))
    client.post("/work/hot/agenda/", big)
    assert Deliberation.objects.filter(title="大议题").exists()
    # Another cluster put on the same item of the same meeting joins it.
    other = burn(city, 121.3088, 28.3088, 3, "另一处焚烧")
    client.post("/work/hot/agenda/", dict(form, numbers=other.number))
    assert other.number in Deliberation.objects.get(title=form["title"]).case_numbers
    # Ids beyond any integer column are a form error, not a crash.
    assert client.post("/work/hot/agenda/", dict(form, category="9" * 30)).status_code == 302


def test_the_newest_cases_make_the_clusters(city: City, monkeypatch) -> None:
    make_hotspot(city)  # four cases 4 to 10 days old, and one far away
    old = [burn(city, 121.3070, 28.3070 + i * 0.0003, 100 + i, "旧的焚烧") for i in range(3)]
    monkeypatch.setattr("linge.insights.hot.MAX_CASES", 5)
    found = clusters(visible_cases(city["village_staff"]))
    assert len(found) == 1 and not set(found[0].numbers) & {c.number for c in old}

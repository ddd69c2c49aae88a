"""/work/visits/: register per grid, visit log, a visit that finds a case, coverage."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from linge.areas.models import Area, Level
from linge.cases.models import Case, Source
from linge.visits import households
from linge.visits.models import Household, Visit
from tests.conftest import City
from tests.visits.test_import import GOOD


def test_import_through_the_page(client: Client, city: City) -> None:
    client.force_login(city["full_time"])
    url = f"/work/visits/grid/{city.grid.pk}/"
    bad = SimpleUploadedFile("h.csv", "地址,户主\n,张三\n".encode())
    response = client.post(url, {"file": bad})
    assert response.status_code == 200 and "第 2 行" in response.content.decode()
    assert not Household.objects.exists()
    response = client.post(url, {"file": SimpleUploadedFile("h.csv", GOOD.encode())})
    assert response.status_code == 302 and Household.objects.count() == 2
    page = client.get(url + "?tag=独居老人").content.decode()
    assert "上墩村1号" in page and "上墩村2号" not in page
    # A part-time worker reads the register but may not import; another grid sees nothing.
    client.force_login(city["part_time"])
    assert client.get(url).status_code == 200
    assert client.post(url, {"file": SimpleUploadedFile("h.csv", GOOD.encode())}
                       ).status_code == 403
    client.force_login(city["neighbour_worker"])
    assert client.get(url).status_code == 404


def test_visit_log_and_a_visit_that_finds_a_case(client: Client, city: City) -> None:
    households.import_csv(city.grid, GOOD.encode())
    house = Household.objects.get(address="上墩村1号")
    client.force_login(city["part_time"])
    url = f"/work/visits/household/{house.pk}/"
    assert client.post(url, {"note": "老人身体健康，冬季取暖正常"}).status_code == 302
    response = client.post(url, {"note": "屋顶漏雨", "found_problem": "on",
                                 "category": city.plain.pk, "problem": "屋顶瓦片破损漏雨"})
    assert response.status_code == 302
    visit = Visit.objects.get(note="屋顶漏雨")
    case = Case.objects.get()
    assert visit.case == case and case.source == Source.VISIT and case.address == "上墩村1号"
    assert client.get(url).content.decode().count("发现的问题") >= 1
    # Asking for a case without a category is refused, and nothing is saved.
    client.post(url, {"note": "x", "found_problem": "on"})
    assert Visit.objects.count() == 2 and Case.objects.count() == 1
    client.force_login(city["dispatcher"])  # reads, may not log visits
    assert client.get(url).status_code == 200
    assert client.post(url, {"note": "y"}).status_code == 403


def test_coverage_per_grid(client: Client, city: City) -> None:
    households.import_csv(city.grid, GOOD.encode())
    house = Household.objects.first()
    client.force_login(city["full_time"])
    client.post(f"/work/visits/household/{house.pk}/", {"note": "走访"})
    client.post(f"/work/visits/household/{house.pk}/", {"note": "再访"})
    client.force_login(city["village_staff"])
    response = client.get("/work/visits/")
    rows = {r.pk: r for r in response.context["rows"]}
    assert rows[city.grid.pk].households == 2 and rows[city.grid.pk].visited == 1
    assert rows[city.grid.pk].rate == 0.5 and rows[city.grid.pk].visits == 2
    assert city.other_town_grid.pk not in rows
    assert "50%" in response.content.decode()


def test_coverage_queries_do_not_grow_with_the_grids(client: Client, city: City,
                                                     django_assert_max_num_queries) -> None:
    client.force_login(city["admin"])  # sees every grid of the city
    with django_assert_max_num_queries(12):
        client.get("/work/visits/")
    for i in range(100, 130):
        Area.objects.create(code=f"331081107001{i:03d}", name=f"网格{i}", level=Level.GRID,
                            parent=city.village)
    with django_assert_max_num_queries(12):
        assert client.get("/work/visits/").context["total"].grids == 34
    with django_assert_max_num_queries(12):
        assert len(client.get("/work/visits/", {"area": city.village.code}).context["rows"]) == 32


def test_a_double_tapped_visit_makes_one_visit_and_one_case(client: Client,
                                                            city: City) -> None:
    households.import_csv(city.grid, GOOD.encode())
    house = Household.objects.get(address="上墩村1号")
    client.force_login(city["part_time"])
    url = f"/work/visits/household/{house.pk}/"
    page = client.get(url).content.decode()
    assert 'name="submit_key"' in page
    data = {"note": "屋顶漏雨", "found_problem": "on", "category": city.plain.pk,
            "problem": "屋顶瓦片破损漏雨", "submit_key": "v" * 32}
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert Visit.objects.count() == 1 and Case.objects.count() == 1
    assert Visit.objects.get().case == Case.objects.get()
    # A visit without a case is kept once as well; a new form, a new visit.
    plain = {"note": "回访，情况良好", "submit_key": "w" * 32}
    client.post(url, plain)
    client.post(url, plain)
    assert Visit.objects.count() == 2
    client.post(url, {**plain, "submit_key": "x" * 32})
    assert Visit.objects.count() == 3 and Case.objects.count() == 1


def test_coverage_rolls_up_by_town_and_village_and_pages(client: Client, city: City) -> None:
    """A leader of the whole city sees towns with their sums, drills into a town's
    villages and a village's grids; the register and the grid's own count are both
    named when they differ; long lists are paged."""
    households.import_csv(city.grid, GOOD.encode())  # 2 households in 上墩村第1网格
    house = Household.objects.first()
    client.force_login(city["full_time"])
    client.post(f"/work/visits/household/{house.pk}/", {"note": "走访"})
    client.force_login(city["leader"])
    response = client.get("/work/visits/")
    towns = {r.name: r for r in response.context["rows"]}
    assert list(towns) == ["太平街道", "温峤镇"]  # by code: 331081001, 331081107
    wq = towns["温峤镇"]
    assert (wq.grids, wq.households, wq.visited, wq.visits, wq.claimed) == (3, 2, 1, 1, 750)
    total = response.context["total"]
    assert (total.grids, total.households, total.claimed) == (4, 2, 1150)
    page = response.content.decode()
    assert "4 个网格 · 名册 2 户 · 已走访 1 户 · 走访 1 次" in page
    assert "网格登记 1150 户，名册未录全" in page

    villages = client.get("/work/visits/", {"area": city.town.code}).context["rows"]
    assert [(v.name, v.households, v.visited) for v in villages] == [("上墩村", 2, 1),
                                                                      ("下墩村", 0, 0)]
    grids = client.get("/work/visits/", {"area": city.village.code})
    assert [(g.name, g.households, g.claimed, g.percent) for g in grids.context["rows"]] == [
        ("上墩村第1网格", 2, 300, 50), ("上墩村第2网格", 0, 200, None)]
    assert [t.name for t in grids.context["trail"]] == ["温峤镇", "上墩村"]
    assert f'href="/work/visits/grid/{city.grid.pk}/"' in grids.content.decode()

    # Out of reach or unknown: 404, for a village worker too.
    assert client.get("/work/visits/", {"area": "999"}).status_code == 404
    client.force_login(city["village_staff"])
    assert client.get("/work/visits/", {"area": city.other_town.code}).status_code == 404

    # More grids than a page holds: 50 a page, and the rest on the next.
    for i in range(100, 160):
        Area.objects.create(code=f"331081107001{i:03d}", name=f"网格{i}", level=Level.GRID,
                            parent=city.village)
    first = client.get("/work/visits/")
    assert len(first.context["rows"]) == 50 and "共 62 项 · 第 1/2 页" in first.content.decode()
    second = client.get("/work/visits/", {"page": 2})
    assert len(second.context["rows"]) == 12

"""The Area admin lists, searches and filters areas."""

from __future__ import annotations

import pytest
from django.urls import reverse

from linge.areas.models import Area


@pytest.mark.django_db
def test_changelist_search_and_filter(admin_client, tree):
    url = reverse("admin:areas_area_changelist")
    response = admin_client.get(url, {"q": "温峤"})
    assert response.status_code == 200
    assert "331081107" in response.content.decode()
    response = admin_client.get(url, {"level__exact": "village"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [tree["village"]]


@pytest.mark.django_db
def test_change_form_uses_raw_id_parent(admin_client, tree):
    url = reverse("admin:areas_area_change", args=[tree["village"].pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert 'class="vForeignKeyRawIdAdminField"' in response.content.decode()


@pytest.mark.django_db
def test_admin_refuses_code_not_under_parent(admin_client, tree):
    url = reverse("admin:areas_area_add")
    data = {"code": "331081108001", "name": "错村", "level": "village", "kind": "",
            "parent": tree["town"].pk, "households": 0}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "应以上级编码 331081107 开头" in response.content.decode()
    assert not Area.objects.filter(code="331081108001").exists()

"""GeoReport v2 answers in JSON or XML, chosen by the URL's extension.

JSON: an array at the top level (a single request too), ids and codes as strings.
XML: the spec's element names, no namespaces: a list under its plural root
(services/service, service_requests/request, errors/error), nested lists under their
own plural (attributes/attribute, values/value, endpoints/endpoint, formats/format).
"""

from __future__ import annotations

import json
from datetime import datetime
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

JSON = "application/json; charset=utf-8"
XML = "text/xml; charset=utf-8"

# The element name of one item of each list, by the list's name.
ITEM = {
    "services": "service", "service_requests": "request", "errors": "error",
    "attributes": "attribute", "values": "value", "endpoints": "endpoint",
    "formats": "format",
}


def w3c(moment: datetime | None) -> str | None:
    """A W3C datetime with its offset, in the site's time zone: 2026-11-30T09:15:00+08:00."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _text(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _element(name: str, value) -> ET.Element:
    node = ET.Element(name)
    if isinstance(value, dict):
        for key, inner in value.items():
            node.append(_element(key, inner))
    elif isinstance(value, list):
        item = ITEM.get(name, "item")
        for inner in value:
            node.append(_element(item, inner))
    else:
        node.text = _text(value)
    return node


def to_xml(root: str, value) -> bytes:
    tree = _element(root, value)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(tree, encoding="utf-8")


def respond(fmt: str, root: str, value, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(to_xml(root, value), content_type=XML, status=status)
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body.encode(), content_type=JSON, status=status)


def errors(fmt: str, status: int, description: str, *, retry_after: int | None = None
           ) -> HttpResponse:
    """The spec's error list: [{"code": 400, "description": "…"}]."""
    response = respond(fmt, "errors", [{"code": status, "description": description}], status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response

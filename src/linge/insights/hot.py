"""Hot and hard issues: cases of one category that cluster in place and time.

Clustering is greedy and deterministic: cases are taken in time order; a case joins the
open cluster of its category whose centre lies within `radius_m` and whose latest case
is at most `window` old; otherwise it starts a new one. Keywords come from jieba's
TF-IDF extraction over the cluster's descriptions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from linge.cases.models import Case, State

EARTH_M = 6_371_000
MAX_CASES = 20_000


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular distance: exact enough within a town."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return EARTH_M * math.hypot(x, y)


@dataclass
class Cluster:
    category_id: int
    category_name: str
    village_id: int
    cases: list[Case] = field(default_factory=list)
    lon: float = 0.0
    lat: float = 0.0
    keywords: list[str] = field(default_factory=list)

    def add(self, case: Case) -> None:
        n = len(self.cases)
        self.lon = (self.lon * n + case.lon) / (n + 1)
        self.lat = (self.lat * n + case.lat) / (n + 1)
        self.cases.append(case)

    @property
    def size(self) -> int:
        return len(self.cases)

    @property
    def first(self) -> datetime:
        return self.cases[0].created_at

    @property
    def last(self) -> datetime:
        return self.cases[-1].created_at

    @property
    def numbers(self) -> list[str]:
        return [c.number for c in self.cases]


def keywords(texts: list[str], top: int = 5) -> list[str]:
    from linge.insights.words import top_words

    return [word for word, _weight in top_words(texts, top)]


def clusters(cases: QuerySet[Case], *, radius_m: float = 300, window: timedelta = timedelta(
        days=30), min_size: int = 3, since: datetime | None = None) -> list[Cluster]:
    since = since or timezone.now() - timedelta(days=180)
    # The newest MAX_CASES, walked oldest first (a cluster grows forward in time).
    rows = list(cases.filter(created_at__gte=since, lon__isnull=False, lat__isnull=False)
                .exclude(state__in=[State.REJECTED, State.MERGED])
                .select_related("category").order_by("-created_at")[:MAX_CASES])[::-1]
    open_: dict[int, list[Cluster]] = {}
    done: list[Cluster] = []
    for case in rows:
        mine = open_.setdefault(case.category_id, [])
        home = None
        for cluster in mine:
            if case.created_at - cluster.last > window:
                continue
            if distance_m(cluster.lon, cluster.lat, case.lon, case.lat) <= radius_m:
                home = cluster
                break
        if home is None:
            home = Cluster(case.category_id, case.category.name, case.village_id)
            mine.append(home)
            done.append(home)
        home.add(case)
    result = [c for c in done if c.size >= min_size]
    for cluster in result:
        cluster.keywords = keywords([c.description for c in cluster.cases])
    result.sort(key=lambda c: (-c.size, -c.last.timestamp()))
    return result


def deliberations_for_village(village_id: int) -> list[dict]:
    """The village's deliberation agenda for the residents' grid pages, newest first."""
    from linge.insights.models import Deliberation

    return [
        {"title": d.title, "meeting_on": d.meeting_on, "outcome": d.outcome,
         "category": d.category.name if d.category else "", "keywords": d.keywords,
         "cases": len(d.case_numbers)}
        for d in Deliberation.objects.filter(village_id=village_id).select_related("category")[:20]
    ]

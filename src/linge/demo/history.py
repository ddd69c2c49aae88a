"""A year of case history for the demo city, told through the workflow functions.

Each case's whole story (submit → accept → … → rated) is played through
`cases.workflow` with a `BatchStore`, so every row is what the real moves write and
the event chain passes `linge audit verify`. Stories stop at the end date, which
leaves the last days' cases open in every state, some of them overdue.

The mix is modeled on the published figures (most solved in the grid, 99% closed,
99% satisfied): about 80% of accepted cases are solved in the grid, 17% escalated
and dispatched, 3% solved by the town; a few are rejected, merged, returned,
suspended, extended, reworked or left unrated.
"""

from __future__ import annotations

import bisect
import collections
import gc
import hashlib
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from linge.areas.models import Area
from linge.cases import deadlines, workflow
from linge.cases.batch import BatchStore
from linge.cases.deadlines import WorkCalendar
from linge.cases.models import Case, Category, ChainHead, Rating, Source
from linge.cases.store import Store
from linge.demo.city import CityInfo
from linge.demo.places import Places
from linge.demo.texts import describe
from linge.people.models import Duty, Unit, UnitKind, User
from linge.people.roles import SYSTEM, Actor, Roles, add_membership

NOTES = ("已到现场处理完毕。", "已协调相关人员清理。", "已修复，现场恢复正常。", "已劝导整改。",
         "已联系责任单位处置。")
HOUR = 3600
# How often a report carries a position, by source: staff on the spot, residents'
# phones (some refuse the location), none for a phone call.
POSITIONED = {Source.PATROL: 0.9, Source.VISIT: 0.9, Source.QR: 0.7,
              Source.RESIDENT_PAGE: 0.5}
RECURRING = 0.04  # share of reports that repeat a recent problem in the same place
# The demo logins' grid gets a hot spot of its own in the last weeks, so that 热点 has
# something to show to its grid team, village, town and leaders.
SHOWCASE_GRID = "上墩村第1网格"
SHOWCASE_CASES = 10
SHOWCASE_WINDOW = timedelta(days=60)


class Timeline:
    """Moves a story's clock forward in working or wall time, and knows when to stop."""

    def __init__(self, start: datetime, end: datetime, calendar: WorkCalendar) -> None:
        self.now = start
        self.end = end
        self.calendar = calendar

    def work(self, seconds: float) -> bool:
        self.now = self.calendar.add(self.now, int(seconds), "work")
        return self.now <= self.end

    def wall(self, seconds: float) -> bool:
        self.now = self.now + timedelta(seconds=int(seconds))
        return self.now <= self.end


@dataclass
class Teams:
    """Who does what for one grid, looked up once."""

    hands: list[User]
    escalators: list[User]
    village: list[User]
    dispatchers: list[User]
    offices: dict[str, Unit]


@dataclass
class HistoryReport:
    cases: int = 0
    events: int = 0
    by_path: dict[str, int] = field(default_factory=dict)

    def count(self, path: str) -> None:
        self.by_path[path] = self.by_path.get(path, 0) + 1


class HistoryMaker:
    """Tells case stories through the workflow, into a BatchStore by default.

    `store`: another store to write through instead, e.g. the plain per-move
    `cases.store.Store` the web uses (bench/bench_demo.py measures it as a baseline).
    The stories are the same whichever store writes them.
    """

    def __init__(
        self, info: CityInfo, rng: random.Random, end: datetime, store: Store | None = None
    ) -> None:
        self.info = info
        self.rng = rng
        self.end = end
        batch_rng = random.Random(rng.random())  # drawn either way: same stories
        self.store = store if store is not None else BatchStore(batch_rng)
        self.batch = isinstance(self.store, BatchStore)
        self.report = HistoryReport()
        self.villages = {v.pk: v for v in info.villages}
        self.parents = {
            area.pk: area.parent_id for area in [*info.grids, *info.villages, *info.towns]
        }
        if self.batch:
            self._prime_store()
        self._prime_roles()
        self.teams = {grid.pk: self._team(grid) for grid in info.grids}
        self.grid_weights = _cumulative([max(grid.households, 1) for grid in info.grids])
        self.categories = info.categories
        # Common problems are reported far more often than rare ones.
        self.category_weights = _cumulative([1 / (i % 12 + 1) for i in range(len(info.categories))])
        self.photos = demo_photos()
        self.places = Places(info.grids, rng)
        self.recent: collections.deque[tuple[Area, Category]] = collections.deque(maxlen=500)
        showcase = [grid for grid in info.grids if grid.name == SHOWCASE_GRID]
        self.showcase = (showcase[0], info.categories[0]) if showcase else None
        self.showcase_left = SHOWCASE_CASES
        self.leader = _first(info.members[info.command.pk], Duty.LEADER)
        self.calendar = deadlines.calendar()
        self.clocks: dict[str, str] = {}  # time unit → its clock

    def _prime_store(self) -> None:
        info = self.info
        units = {}
        for grid_id, team in info.grid_team.items():
            units[(grid_id, UnitKind.GRID_TEAM)] = team.pk
        for town_id, platform in info.town_platform.items():
            units[(town_id, UnitKind.TOWN_PLATFORM)] = platform.pk
        self.store.prime(self.parents, units)

    def _units(self) -> list[Unit]:
        info = self.info
        units = [*info.grid_team.values(), *info.village_unit.values(),
                 *info.town_platform.values(), info.command]
        for offices in info.town_offices.values():
            units += offices.values()
        for departments in info.departments.values():
            units += departments
        return units

    def _prime_roles(self) -> None:
        """Fold every membership into the users' cached roles with no query per user."""
        city_id = self.info.city.pk
        area_level = {area.pk: area.level for area in [*self.info.grids, *self.info.villages,
                                                       *self.info.towns]}
        area_level[city_id] = "city"
        for unit in self._units():
            for user, duty in self.info.members.get(unit.pk, []):
                roles = getattr(user, "_linge_roles", None)
                if roles is None:
                    roles = Roles(admin=user.is_superuser)
                    user._linge_roles = roles
                add_membership(roles, unit.kind, unit.area_id, unit.pk, duty,
                               area_level[unit.area_id])
        for resident in self.info.residents:
            resident._linge_roles = Roles()

    def _team(self, grid: Area) -> Teams:
        info = self.info
        members = info.members[info.grid_team[grid.pk].pk]
        village_id = grid.parent_id
        town_id = self.parents[village_id]
        return Teams(
            hands=[u for u, d in members if d in (Duty.GRID_LEADER, Duty.FULL_TIME,
                                                  Duty.PART_TIME)],
            escalators=[u for u, d in members if d in (Duty.GRID_LEADER, Duty.FULL_TIME)],
            village=[u for u, d in info.members[info.village_unit[village_id].pk]
                     if d == Duty.VILLAGE_STAFF],
            dispatchers=[u for u, d in info.members[info.town_platform[town_id].pk]
                         if d == Duty.DISPATCHER],
            offices=info.town_offices[town_id],
        )

    # One case.

    def tell(self, start: datetime) -> None:
        rng = self.rng
        if (self.showcase and self.showcase_left and start >= self.end - SHOWCASE_WINDOW
                and rng.random() < 0.02):
            grid, category = self.showcase
            self.showcase_left -= 1
        elif self.recent and rng.random() < RECURRING:
            # The same problem again where it was reported lately (hot spots form so).
            grid, category = rng.choice(self.recent)
        else:
            grid = self.info.grids[
                bisect.bisect(self.grid_weights, rng.random() * self.grid_weights[-1])
            ]
            category = self.categories[
                bisect.bisect(self.category_weights, rng.random() * self.category_weights[-1])
            ]
        self.recent.append((grid, category))
        team = self.teams[grid.pk]
        clock = Timeline(start, self.end, self.calendar)
        case = self._submit(grid, category, team, clock.now)
        self.report.cases += 1
        path = self._story(case, team, clock)
        self.report.count(path)
        if self.batch:
            self.store.maybe_flush()

    def _submit(self, grid: Area, category: Category, team: Teams, now: datetime) -> Case:
        rng = self.rng
        roll = rng.random()
        village = self.villages[grid.parent_id]
        text, place = describe(category.code, category.name,
                               village.name.endswith("社区"), rng)
        kwargs: dict = {"category": category, "description": text, "grid": grid, "now": now,
                        "store": self.store, "address": f"{village.name}{place}" if place else ""}
        if roll < 0.22:
            who: Actor | User = rng.choice(team.hands)
            kwargs["source"] = Source.PATROL if roll < 0.18 else Source.VISIT
        elif roll < 0.32:
            who = SYSTEM
            kwargs.update(source=Source.HOTLINE, reporter_phone=_phone(rng))
        elif roll < 0.40:
            who = Actor()
            kwargs.update(source=Source.QR, anonymous=True)
        else:
            who = rng.choice(self.info.residents)
            kwargs["source"] = Source.QR if roll < 0.85 else Source.RESIDENT_PAGE
        if rng.random() < 0.5:
            kwargs["photos"] = [rng.choice(self.photos)]
        if rng.random() < POSITIONED.get(kwargs["source"], 0.0):
            kwargs["lon"], kwargs["lat"] = self.places.point(grid.pk, category.pk, now)
        return workflow.submit(who, **kwargs).case

    def _story(self, case: Case, team: Teams, clock: Timeline) -> str:
        rng, w, s = self.rng, workflow, self.store
        hand = rng.choice(team.hands)
        roll = rng.random()
        if roll < 0.015:
            if clock.work(rng.uniform(0.2, 1.5) * HOUR):
                w.reject(case, rng.choice(team.escalators), reason="不属于网格受理范围，已告知正确渠道", now=clock.now, store=s)
            return "rejected"
        if roll < 0.035:
            self._duplicate(case, team, clock)
        if rng.random() < 0.05 and clock.wall(rng.uniform(1, 48) * HOUR):
            self._support(case, clock.now)
        late = rng.random() < 0.05
        budget = case.accept_budget or HOUR
        if not clock.work(budget * (rng.uniform(1.05, 1.6) if late else rng.uniform(0.05, 0.7))):
            return "open"
        w.accept(case, hand, now=clock.now, store=s)
        if rng.random() < 0.3 and clock.wall(rng.uniform(60, 900)):
            w.assign(case, rng.choice(team.escalators), assignee=rng.choice(team.hands),
                     now=clock.now, store=s)
        path = rng.random()
        if path < 0.80:
            done = self._grid_path(case, team, clock)
            label = "grid"
        elif path < 0.97:
            done = self._dispatch_path(case, team, clock)
            label = "dispatched"
        else:
            done = self._town_path(case, team, clock)
            label = "town"
        if done:
            self._rate(case, team, clock)
        return label

    def _late(self, case: Case) -> float:
        # 6% of cases run over their resolve deadline.
        return self.rng.uniform(1.05, 1.8) if self.rng.random() < 0.06 else self.rng.uniform(0.1, 0.9)

    def _advance(self, case: Case, clock: Timeline, share: float) -> bool:
        budget = max(case.resolve_budget, HOUR)
        unit = case.category.resolve_unit
        clock_kind = self.clocks.get(unit)
        if clock_kind is None:
            clock_kind = self.clocks[unit] = deadlines.budget(0, unit)[1]
        if clock_kind == deadlines.WALL:
            return clock.wall(budget * share)
        return clock.work(budget * share)

    def _grid_path(self, case: Case, team: Teams, clock: Timeline) -> bool:
        rng, w, s = self.rng, workflow, self.store
        if rng.random() < 0.01:
            if not clock.work(HOUR):
                return False
            w.suspend(case, rng.choice(team.escalators), reason="等待维修资金到位", now=clock.now,
                      store=s)
            if not clock.wall(rng.uniform(3, 20) * 86400):
                return False
            w.resume(case, rng.choice(team.escalators), note="资金已到位", now=clock.now, store=s)
        if not self._advance(case, clock, self._late(case)):
            return False
        self._supervise_if_late(case, clock)
        w.resolve(case, rng.choice(team.hands), note=rng.choice(NOTES), now=clock.now, store=s,
                  after_photos=[rng.choice(self.photos)])
        return True

    def _supervise_if_late(self, case: Case, clock: Timeline) -> None:
        if case.resolve_due and clock.now > case.resolve_due and self.rng.random() < 0.3:
            workflow.supervise(case, self.leader, note="请加快办理", now=case.resolve_due,
                               store=self.store)

    def _dispatch_path(self, case: Case, team: Teams, clock: Timeline) -> bool:
        rng, w, s = self.rng, workflow, self.store
        if not clock.work(rng.uniform(0.2, 2) * HOUR):
            return False
        w.escalate(case, rng.choice(team.escalators), reason="网格力量无法解决，需职能部门处置",
                   now=clock.now, store=s)
        dispatcher = rng.choice(team.dispatchers)
        if not clock.work(rng.uniform(0.2, 2) * HOUR):
            return False
        unit = self._pick_unit(case, team)
        w.dispatch(case, dispatcher, unit=unit, now=clock.now, store=s)
        if rng.random() < 0.05:
            # Misrouted: the unit returns it, the town sends it back to the grid.
            if not clock.work(rng.uniform(0.5, 4) * HOUR):
                return False
            handler = self._handler(unit)
            w.return_case(case, handler, reason="不属于本单位职责范围", now=clock.now, store=s)
            if not clock.work(rng.uniform(0.5, 2) * HOUR):
                return False
            w.return_case(case, dispatcher, reason="请网格先行核实处置", now=clock.now, store=s)
            return self._grid_path(case, team, clock)
        handler = self._handler(unit)
        if rng.random() < 0.04:
            if not clock.work(rng.uniform(1, 6) * HOUR):
                return False
            w.request_extension(case, handler, amount=2, reason="需采购材料", now=clock.now, store=s)
            if not clock.work(rng.uniform(0.5, 3) * HOUR):
                return False
            w.grant_extension(case, dispatcher, now=clock.now, store=s)
        if not self._advance(case, clock, self._late(case)):
            return False
        self._supervise_if_late(case, clock)
        w.resolve(case, handler, note=rng.choice(NOTES), now=clock.now, store=s,
                  after_photos=[rng.choice(self.photos)])
        if not clock.work(rng.uniform(0.5, 4) * HOUR):
            return False
        w.verify(case, dispatcher, note="现场核查属实", now=clock.now, store=s)
        return True

    def _town_path(self, case: Case, team: Teams, clock: Timeline) -> bool:
        rng, w, s = self.rng, workflow, self.store
        if not clock.work(rng.uniform(0.2, 2) * HOUR):
            return False
        w.escalate(case, rng.choice(team.escalators), reason="需镇街协调", now=clock.now, store=s)
        if not self._advance(case, clock, self._late(case)):
            return False
        w.resolve(case, rng.choice(team.dispatchers), note="镇街协调解决", now=clock.now, store=s,
                  after_photos=[rng.choice(self.photos)])
        return True

    def _pick_unit(self, case: Case, team: Teams) -> Unit:
        lane = case.category.lane.code if case.category.lane else "bianmin"
        departments = self.info.departments.get(lane) or []
        if departments and self.rng.random() < 0.4:
            return self.rng.choice(departments)
        return team.offices[lane]

    def _handler(self, unit: Unit) -> User:
        return _first(self.info.members[unit.pk], Duty.HANDLER)

    def _rate(self, case: Case, team: Teams, clock: Timeline) -> None:
        rng, w, s = self.rng, workflow, self.store
        if case.reporter_id is None:
            # Patrols, hotline callers and anonymous reporters: closed unrated after N days.
            if clock.wall(8 * 86400):
                w.auto_close(case, SYSTEM, now=clock.now, store=s)
            return
        roll = rng.random()
        if roll < 0.03:
            if clock.wall(8 * 86400):
                w.auto_close(case, SYSTEM, now=clock.now, store=s)
            return
        if not clock.wall(rng.uniform(0.5, 48) * HOUR):
            return
        reporter = case.reporter
        if roll < 0.05:
            w.rate(case, reporter, rating=Rating.UNSATISFIED, comment="问题还在，没有处理好",
                   now=clock.now, store=s)
            if not self._rework(case, team, clock) or not clock.wall(rng.uniform(1, 24) * HOUR):
                return
            w.rate(case, reporter, rating=Rating.SATISFIED, now=clock.now, store=s)
            return
        rating = Rating.BASIC if roll < 0.12 else Rating.SATISFIED
        w.rate(case, reporter, rating=rating, now=clock.now, store=s)

    def _rework(self, case: Case, team: Teams, clock: Timeline) -> bool:
        """The last handler does it again; a department's rework goes through the check."""
        w, s = workflow, self.store
        if not self._advance(case, clock, self.rng.uniform(0.1, 0.6)):
            return False
        if case.state == "dispatched":
            w.resolve(case, self._handler(case.dispatched_unit), note="已返工处理",
                      after_photos=[self.rng.choice(self.photos)], now=clock.now, store=s)
            if not clock.work(HOUR):
                return False
            w.verify(case, self.rng.choice(team.dispatchers), now=clock.now, store=s)
            return True
        who = self.rng.choice(team.dispatchers if case.state == "escalated" else team.hands)
        w.resolve(case, who, note="已返工处理", after_photos=[self.rng.choice(self.photos)],
                  now=clock.now, store=s)
        return True

    def _duplicate(self, case: Case, team: Teams, clock: Timeline) -> None:
        rng = self.rng
        reporter = rng.choice(self.info.residents)
        if reporter.pk == case.reporter_id or not clock.wall(rng.uniform(600, 4 * HOUR)):
            return
        # Another resident, in their own words, about the same place.
        village = self.villages[case.grid.parent_id]
        text, place = describe(case.category.code, case.category.name,
                               village.name.endswith("社区"), rng,
                               place=case.address.removeprefix(village.name))
        twin = workflow.submit(reporter, category=case.category, description=text,
                               grid=case.grid, source=Source.QR, now=clock.now,
                               address=f"{village.name}{place}" if place else "",
                               store=self.store).case
        self.report.cases += 1
        self.report.count("merged")
        if clock.work(rng.uniform(0.1, 1) * HOUR):
            workflow.merge(twin, rng.choice(team.hands), into=case, now=clock.now,
                           store=self.store)

    def _support(self, case: Case, now: datetime) -> None:
        resident = self.rng.choice(self.info.residents)
        if resident.pk != case.reporter_id and not self.store.is_supporter(case, resident.pk):
            workflow.add_support(case, resident, now=now, store=self.store)


def _first(members: list[tuple[User, str]], duty: str) -> User:
    return next(user for user, d in members if d == duty)


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def submit_times(rng: random.Random, count: int, end: datetime, days: int) -> list[datetime]:
    """`count` report times over the `days` before `end`, busier by day than by night."""
    start = end - timedelta(days=days)
    hours = [0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 1, 2, 4, 5, 5, 4, 3, 4, 5, 5, 4, 3, 3, 2, 2, 1, 0.6, 0.4]
    weights = _cumulative(hours)
    times = []
    for _ in range(count):
        day = rng.randrange(days)
        hour = bisect.bisect(weights, rng.random() * weights[-1])
        moment = start + timedelta(days=day, hours=hour, seconds=rng.randrange(3600))
        times.append(min(moment, end))
    times.sort()
    return times


def demo_photos() -> list[workflow.Photo]:
    """Three small real JPEGs stored once, shared by the demo's attachments."""
    from PIL import Image, ImageDraw

    photos = []
    for i, colour in enumerate(((92, 140, 80), (120, 120, 130), (70, 110, 160)), start=1):
        path = f"demo/after-{i}.jpg"
        image = Image.new("RGB", (480, 360), colour)
        ImageDraw.Draw(image).rectangle((60 * i, 80, 60 * i + 200, 280), fill=(230, 230, 220))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        data = buffer.getvalue()
        if not default_storage.exists(path):
            default_storage.save(path, ContentFile(data))
        photos.append(workflow.Photo(path=path, sha256=hashlib.sha256(data).hexdigest(),
                                     width=480, height=360))
    return photos


def make_history(
    info: CityInfo,
    cases: int,
    *,
    days: int = 365,
    end: datetime | None = None,
    seed: int = 331081,
    progress: Callable[[int], None] | None = None,
    store: Store | None = None,
) -> HistoryReport:
    """Tell `cases` stories; `store`: write through it instead of a BatchStore."""
    rng = random.Random(f"{seed}:history")
    end = end or timezone.now()
    maker = HistoryMaker(info, rng, end, store)
    times = submit_times(rng, cases, end, days)
    if not maker.batch:
        first_seq = _chain_seq()
        _tell_all(maker, times, progress)
        maker.report.events = _chain_seq() - first_seq
        return maker.report
    batch = maker.store
    first_seq = batch.seq
    # The city, Django and the stories' constant data live for the whole run: frozen,
    # the collector stops rescanning them on every full collection (about 7% of the
    # time), and the writer process shares their pages instead of copying them.
    gc.freeze()
    try:
        _tell_all(maker, times, progress)
        batch.finish()
    except BaseException:
        batch.abort()
        raise
    finally:
        gc.unfreeze()
    maker.report.events = batch.seq - first_seq
    return maker.report


def _tell_all(
    maker: HistoryMaker, times: list[datetime], progress: Callable[[int], None] | None
) -> None:
    for i, start in enumerate(times, start=1):
        maker.tell(start)
        if progress is not None and i % 10000 == 0:
            progress(i)


def _chain_seq() -> int:
    return ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0

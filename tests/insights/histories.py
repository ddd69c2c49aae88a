"""Generated case histories for the figures tests, driven through cases.workflow.

Each history is a seeded random walk over the case loop — rejections, merges, rework,
suspensions, returns, extensions, department checks, auto-closing, transfers — at
explicit times around the National Day holiday and across midnight, so cohort days,
holidays and working-time deadlines all play a part. While it plays, it writes down
the resolve deadline in force each time a case reaches 待评价: the brute force needs
it and the event log does not carry it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from linge.cases import workflow
from linge.cases.models import Case, Rating, Source, State
from linge.people.roles import SYSTEM
from tests.conftest import City, at

START = at("2026-09-26 08:00")


class History:
    def __init__(self, city: City, seed: int) -> None:
        self.city = city
        self.rng = random.Random(seed)
        self.due_at_resolution: dict[int, datetime | None] = {}
        self.open_cases: list[Case] = []

    def later(self, now: datetime, low_min: int = 1, high_min: int = 3000) -> datetime:
        return now + timedelta(minutes=self.rng.randint(low_min, high_min),
                               seconds=self.rng.randint(0, 59))

    def note_resolution(self, case: Case) -> None:
        if case.state == State.RESOLVED:
            self.due_at_resolution[case.pk] = case.resolve_due

    def play(self, n: int, on_step=None) -> None:
        for i in range(n):
            self.one(i)
            if on_step is not None:
                on_step()

    def one(self, i: int) -> None:
        c, rng = self.city, self.rng
        grid = rng.choice([c.grid, c.grid, c.neighbour_grid, c.other_village_grid,
                           c.other_town_grid])
        workers = {c.grid.pk: "full_time", c.neighbour_grid.pk: "neighbour_worker",
                   c.other_village_grid.pk: "other_village_worker",
                   c.other_town_grid.pk: "other_town_worker"}
        # Some cases arrive late in the evening or just after midnight (cohort days).
        now = START + timedelta(days=rng.randint(0, 30), hours=rng.choice([0, 2, 6, 15, 16]),
                                minutes=rng.randint(0, 59))
        staff = rng.random() < 0.2
        reporter = c[workers[grid.pk]] if staff else c["resident"]
        case = workflow.submit(
            reporter, category=rng.choice([c.plain, c.urgent, c.plain]), description="路灯不亮",
            grid=grid, now=now, source=rng.choice([Source.PATROL, Source.VISIT]) if staff
            else Source.RESIDENT_PAGE,
        ).case
        worker = c[workers[grid.pk]]
        town_dispatcher = c["dispatcher"] if grid.parent.parent_id == c.town.pk else c[
            "other_town_dispatcher"]
        roll = rng.random()
        now = self.later(now, 1, 600)
        if roll < 0.07:
            workflow.reject(case, worker if grid.pk != c.grid.pk else c["grid_leader"],
                            reason="不属于受理范围", now=now)
            return
        if roll < 0.14:
            target = Case.objects.filter(
                grid=case.grid_id, state__in=[State.SUBMITTED, State.ACCEPTED, State.ESCALATED]
            ).exclude(pk=case.pk).first()
            if target is not None:
                workflow.merge(case, worker, into=target, now=now)
                return
        if roll < 0.2 and grid.pk == c.grid.pk:
            workflow.transfer(case, c["full_time"], grid=c.neighbour_grid, reason="位置在2网格",
                              now=now)
            grid, worker = c.neighbour_grid, c["neighbour_worker"]
            now = self.later(now, 1, 300)
        if rng.random() < 0.1:
            self.open_cases.append(case)  # left waiting to be accepted
            if rng.random() < 0.5:
                workflow.flag_overdue(case, SYSTEM, now=now + timedelta(days=12))
            return
        workflow.accept(case, worker, now=now)
        now = self.later(now)
        if grid.pk == c.grid.pk and rng.random() < 0.3:
            workflow.assign(case, c["grid_leader"], assignee=c["part_time"], now=now)
            now = self.later(now, 1, 60)
        if rng.random() < 0.15:
            workflow.suspend(case, worker, reason="等待物资", now=now)
            now = self.later(now, 600, 8000)
            workflow.resume(case, worker, now=now)
            now = self.later(now)
        if rng.random() < 0.08:
            self.open_cases.append(case)  # still being handled
            return
        path = rng.random()
        if path < 0.45:
            self.resolve_in_grid(case, worker, now)
        else:
            self.escalate(case, worker, town_dispatcher, now)

    def resolve_in_grid(self, case: Case, worker, now: datetime) -> None:
        who = worker
        if case.grid_id == self.city.grid.pk and self.rng.random() < 0.3:
            who = self.city["village_staff"]  # 小事不出村: solved by the village
        workflow.resolve(case, who, note="已处理", now=now)
        self.note_resolution(case)
        self.finish(case, self.later(now), lambda at_: self.resolve_in_grid(case, worker, at_))

    def escalate(self, case: Case, worker, dispatcher, now: datetime) -> None:
        c, rng = self.city, self.rng
        workflow.escalate(case, worker, reason="需要执法", now=now)
        now = self.later(now)
        if rng.random() < 0.2:
            workflow.return_case(case, dispatcher, reason="请网格处理", now=now)
            self.resolve_in_grid(case, worker, self.later(now))
            return
        if rng.random() < 0.25:
            workflow.resolve(case, dispatcher, note="镇街已处理", now=now)
            self.note_resolution(case)
            self.finish(case, self.later(now), lambda at_: self.town_again(case, dispatcher, at_))
            return
        in_town = dispatcher.pk == c["dispatcher"].pk and rng.random() < 0.5
        unit = c.office if in_town else c.department
        handler = c["office_handler"] if in_town else c["department_handler"]
        workflow.dispatch(case, dispatcher, unit=unit, now=now)
        now = self.later(now)
        if rng.random() < 0.15:
            workflow.return_case(case, handler, reason="非本部门职责", now=now)
            now = self.later(now)
            workflow.dispatch(case, dispatcher, unit=unit, now=now)
            now = self.later(now)
        if rng.random() < 0.3:
            workflow.request_extension(case, handler, amount=2, reason="材料未到", now=now)
            now = self.later(now, 1, 120)
            if rng.random() < 0.7:
                workflow.grant_extension(case, dispatcher, now=now)
            else:
                workflow.refuse_extension(case, dispatcher, reason="不同意", now=now)
            now = self.later(now)
        if rng.random() < 0.1:
            self.open_cases.append(case)
            return
        self.department(case, handler, dispatcher, now)

    def department(self, case: Case, handler, dispatcher, now: datetime) -> None:
        workflow.resolve(case, handler, note="已处理", now=now)
        now = self.later(now, 30, 600)
        if self.rng.random() < 0.2:
            workflow.fail_verification(case, dispatcher, reason="未处理到位", now=now)
            now = self.later(now)
            workflow.resolve(case, handler, note="已重新处理", now=now)
            now = self.later(now, 30, 600)
        workflow.verify(case, dispatcher, note="属实", now=now)
        self.note_resolution(case)
        self.finish(case, self.later(now),
                    lambda at_: self.department(case, handler, dispatcher, at_))

    def town_again(self, case: Case, dispatcher, now: datetime) -> None:
        workflow.resolve(case, dispatcher, note="镇街再次处理", now=now)
        self.note_resolution(case)
        self.finish(case, self.later(now), lambda at_: self.town_again(case, dispatcher, at_))

    def finish(self, case: Case, now: datetime, again) -> None:
        """The reporter rates (不满意 sends it back once at most), or it closes unrated."""
        rng = self.rng
        choice = rng.random()
        if case.reporter_id is None or choice < 0.2:
            if rng.random() < 0.1:
                self.open_cases.append(case)  # still waiting for the rating
                return
            workflow.auto_close(case, SYSTEM, now=now + timedelta(days=8))
            return
        if choice < 0.4 and case.rework_count < 2:
            workflow.rate(case, self.city["resident"], rating=Rating.UNSATISFIED, now=now)
            again(self.later(now))
            return
        rating = Rating.SATISFIED if choice < 0.8 else Rating.BASIC
        workflow.rate(case, self.city["resident"], rating=rating, now=now)

"""`linge audit verify` catches an edited, a deleted and a reordered event."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from linge.cases import workflow
from linge.cases.chain import verify_chain
from linge.cases.models import CaseEvent
from linge.notify.models import Outbox
from tests.conftest import City, at


@pytest.fixture
def history(city: City) -> City:
    for i in range(3):
        case = workflow.submit(city["resident"], category=city.plain, description=f"堆物{i}",
                               grid=city.grid, now=at("2026-11-02 09:00")).case
        workflow.accept(case, city["full_time"], now=at("2026-11-02 10:00"))
        workflow.resolve(case, city["full_time"], note="已清理", now=at("2026-11-02 11:00"))
    assert CaseEvent.objects.count() == 9
    return city


def verify_output(capsys) -> str:
    call_command("audit", "verify")
    return capsys.readouterr().out


def test_intact_chain_passes(history: City, capsys) -> None:
    assert "共 9 个事件" in verify_output(capsys)
    assert verify_chain() == (9, None)


def test_edited_event_is_named(history: City) -> None:
    # Raw SQL-level update, as someone with database access would do it.
    CaseEvent.objects.filter(seq=5).update(data={"note": "改过的记录"})
    with pytest.raises(CommandError, match="#5.*修改"):
        call_command("audit", "verify")


def test_edited_actor_is_named(history: City) -> None:
    CaseEvent.objects.filter(seq=2).update(actor_label="别人")
    count, problem = verify_chain()
    assert (count, problem.seq) == (1, 2)


def test_deleted_event_in_the_middle(history: City) -> None:
    Outbox.objects.filter(key__startswith="4:").delete()
    CaseEvent.objects.filter(seq=4).delete()
    with pytest.raises(CommandError, match="#4"):
        call_command("audit", "verify")


def test_deleted_last_event(history: City) -> None:
    Outbox.objects.filter(key__startswith="9:").delete()
    CaseEvent.objects.filter(seq=9).delete()
    with pytest.raises(CommandError, match="链尾不符"):
        call_command("audit", "verify")


def test_reordered_events(history: City) -> None:
    # Swap the positions of events 6 and 7 by exchanging their sequence numbers.
    CaseEvent.objects.filter(seq=6).update(seq=-6)
    CaseEvent.objects.filter(seq=7).update(seq=6)
    CaseEvent.objects.filter(seq=-6).update(seq=7)
    count, problem = verify_chain()
    assert problem is not None and problem.seq == 6
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_reordered_times(history: City) -> None:
    first, second = CaseEvent.objects.filter(seq__in=[2, 3]).order_by("seq")
    CaseEvent.objects.filter(seq=2).update(at=second.at)
    CaseEvent.objects.filter(seq=3).update(at=first.at)
    _count, problem = verify_chain()
    assert problem is not None and problem.seq == 2

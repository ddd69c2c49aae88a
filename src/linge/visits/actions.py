"""The writes of the visits feature: a visit, and the case it finds through intake."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from linge.cases import intake
from linge.cases.models import Source
from linge.visits.models import Household, Visit


def same_visit(user, household: Household, key: str | None) -> Visit | None:
    if not key:
        return None
    return Visit.objects.filter(submit_key=key, visitor=user,
                                household=household).select_related("case").first()


def log_visit(user, household: Household, data: dict, key: str | None):
    """Save the visit (and the case it found); the same key again returns the first one's
    case and saves nothing. Returns the case or None."""
    existing = same_visit(user, household, key)
    if existing is not None:
        return existing.case
    try:
        with transaction.atomic():
            case = None
            if data["found_problem"]:
                case = intake.submit(user, Source.VISIT, intake.Report(
                    category=data["category"], description=data["problem"],
                    grid=household.grid, address=household.address,
                ), key=key).case
            Visit.objects.create(
                household=household, grid=household.grid, visitor=user,
                at=timezone.now(), note=data["note"],
                follow_up_on=data["follow_up_on"], case=case, submit_key=key,
            )
    except IntegrityError:
        # A concurrent retry with the same key won the race: its visit is the answer.
        existing = same_visit(user, household, key)
        if existing is None:
            raise
        return existing.case
    return case

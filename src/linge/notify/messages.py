"""What the outbox carries, and the language it is written in. Knows nothing of cases:
the features that notify (cases, visits) build the notices."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.utils import translation

P = ParamSpec("P")
R = TypeVar("R")


def in_site_language(make: Callable[P, R]) -> Callable[P, R]:
    """Messages are written in the site's language (LINGE_LANGUAGE), whatever language
    the page of the staff member whose move triggers them is in: a resident told of
    progress must not get English because the dispatcher reads the workbench in English."""

    @functools.wraps(make)
    def made(*args: P.args, **kwargs: P.kwargs) -> R:
        with translation.override(settings.LANGUAGE_CODE):
            return make(*args, **kwargs)

    return made


@dataclass(frozen=True)
class Notice:
    recipient_id: int | None
    phone: str
    channel: str
    text: str
    staff: bool = False  # for a staff member: links to the workbench, not the resident page

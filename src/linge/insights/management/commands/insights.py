"""`linge insights rebuild|catch-up`: the rollups behind the leaders' figures."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from linge.insights import rollups


class Command(BaseCommand):
    help = "Rebuild the figures' rollups from the case events, or fold the new events in."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["rebuild", "catch-up"])

    def handle(self, *args, action: str, **options) -> None:
        started = time.monotonic()
        if action == "rebuild":
            cases = rollups.rebuild()
            # What arrived while rebuilding is folded now, so the figures are current.
            events = rollups.catch_up_all()
            self.stdout.write(f"rebuilt from {cases} cases (+{events} events since) in "
                              f"{time.monotonic() - started:.1f} s")
        else:
            events = rollups.catch_up_all()
            self.stdout.write(f"folded {events} events in {time.monotonic() - started:.1f} s")

"""`linge worker [--once] [--interval SECONDS]`: outbox, deadline sweep, auto-close."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linge.notify import worker


class Command(BaseCommand):
    help = "Send the outbox, sweep deadlines and close unrated cases (safe to run as several copies)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=30.0,
                            help="seconds between passes (default 30)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            run = worker.run_once()
            self.stdout.write(
                f"sent {run.sent}, retried {run.retried}, failed {run.failed}, "
                f"warned {run.warned}, flagged {run.flagged}, escalated {run.escalated}, "
                f"closed {run.closed}"
            )
            return
        stopping = {"now": False}

        def stop(signum: int, frame: object) -> None:
            stopping["now"] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        worker.run_forever(max(options["interval"], 0.1), stop=lambda: stopping["now"])

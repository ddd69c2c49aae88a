"""linge posters: printable A4 QR posters (PDF), one per grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linge.resident.posters import PosterError, grids_for, write_posters


class Command(BaseCommand):
    help = "Write one A4 QR poster (PDF) per grid: its outline, team, phones and QR code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--grid", default="", help="a grid code (15 digits)")
        parser.add_argument("--village", default="", help="all grids of a village (12 digits)")
        parser.add_argument("--town", default="", help="all grids of a town (9 digits)")
        parser.add_argument("--out", default="posters", help="output folder (default ./posters)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (options["grid"] or options["village"] or options["town"]):
            raise CommandError("请用 --grid、--village 或 --town 指定网格范围")
        grids = list(grids_for(grid=options["grid"], village=options["village"],
                               town=options["town"]))
        if not grids:
            raise CommandError("没有找到符合条件的网格")
        try:
            written = write_posters(grids, Path(options["out"]))
        except PosterError as error:
            raise CommandError(str(error)) from None
        for path in written:
            self.stdout.write(str(path))
        self.stdout.write(self.style.SUCCESS(f"{len(written)} 张海报已生成"))

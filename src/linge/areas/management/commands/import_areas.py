"""`linge import-areas FILE [--format geojson|csv]`: create or update areas from a file."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from linge.areas.importers import AreaImportError, import_areas


class Command(BaseCommand):
    help = "从 GeoJSON 或 CSV 文件导入区域与网格（按编码新增或更新；有任何错误则全部不写入）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="GeoJSON 或 CSV 文件")
        parser.add_argument(
            "--format", dest="fmt", choices=["geojson", "csv"],
            help="文件格式（默认按扩展名或内容判断）",
        )

    def handle(self, *args: Any, file: str, fmt: str | None, **options: Any) -> None:
        try:
            report = import_areas(file, fmt)
        except AreaImportError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(_("导入完成：%(summary)s") % {"summary": report.summary()}))

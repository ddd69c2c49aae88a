"""`linge import-categories [FILE]`: load or reload the category tree from a CSV file."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linge.cases.categories import DEFAULT_PATH, CategoryFileError, import_category_file


class Command(BaseCommand):
    help = "导入问题分类树（CSV）；不给文件时导入内置的默认分类。已有编码的分类会被更新。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", nargs="?", default=None, help=f"分类 CSV 文件，默认 {DEFAULT_PATH.name}"
        )

    def handle(self, *args: object, **options: object) -> None:
        path = options["file"] or DEFAULT_PATH
        try:
            result = import_category_file(path)
        except CategoryFileError as error:
            raise CommandError(str(error)) from None
        for note in result.notes:
            self.stdout.write(self.style.WARNING(note))
        if result.lanes_created:
            self.stdout.write(f"新建条线：{'、'.join(result.lanes_created)}")
        self.stdout.write(
            self.style.SUCCESS(
                f"已导入 {path}：大类 {result.groups} 个，小类 {result.leaves} 个；"
                f"新增 {result.created} 个，更新 {result.updated} 个，未变 {result.unchanged} 个"
            )
        )

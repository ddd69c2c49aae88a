"""`linge audit verify`: walk the event hash chain and name the first broken event."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linge.cases.chain import verify_chain


class Command(BaseCommand):
    help = "校验案件事件哈希链：发现修改、删除或调换顺序的事件时以非零状态退出"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["verify"], help="verify: 校验整条事件链")

    def handle(self, *args, **options) -> None:
        count, problem = verify_chain()
        if problem is not None:
            raise CommandError(f"事件链校验失败：{problem}（此前 {count} 个事件完好）")
        self.stdout.write(self.style.SUCCESS(f"事件链完好：共 {count} 个事件"))

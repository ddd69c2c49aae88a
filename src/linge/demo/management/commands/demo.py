"""`linge demo`: build the demo city with a year of case history, and print its logins."""

from __future__ import annotations

import time
from datetime import datetime
from datetime import time as clock
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linge.areas.models import Area, Level
from linge.demo.city import CITY_CODE, DEMO_PASSWORD, CityExists, build_city
from linge.demo.history import make_history
from linge.demo.register import build_register

DEFAULT_CASES = 20_000


class Command(BaseCommand):
    help = "生成演示城市（温岭市）：区域网格、人员、分类和一年的案件历史"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=DEFAULT_CASES,
                            help=f"案件数（默认 {DEFAULT_CASES}）")
        parser.add_argument("--days", type=int, default=365, help="历史天数（默认 365）")
        parser.add_argument("--seed", type=int, default=331081, help="随机种子")
        parser.add_argument("--until", help="历史截止日期 YYYY-MM-DD（默认：现在）")
        parser.add_argument("--if-empty", action="store_true",
                            help="数据库中已有演示城市时什么也不做")
        parser.add_argument("--logins", action="store_true", help="只打印演示账号")

    def handle(self, *args, **options) -> None:
        if options["logins"]:
            self._print_logins()
            return
        if Area.objects.filter(code=CITY_CODE).exists():
            if options["if_empty"]:
                self.stdout.write("演示城市已存在，跳过生成。")
                return
            raise CommandError("数据库中已有演示城市；请换一个空数据库（或删除 var/ 目录）")
        if options["cases"] < 0 or options["days"] < 1:
            raise CommandError("--cases 不能为负，--days 至少为 1")
        started = time.monotonic()
        try:
            info = build_city(options["seed"])
        except CityExists as error:
            raise CommandError(str(error)) from None
        households = build_register(
            Area.objects.filter(level=Level.GRID).select_related("parent"), options["seed"])
        city_seconds = time.monotonic() - started
        self.stdout.write(
            f"城市：{len(info.towns)} 个镇街，{len(info.villages)} 个村社，"
            f"{len(info.grids)} 个网格，{len(info.users)} 名工作人员，"
            f"住户名册 {households} 户（{city_seconds:.1f} 秒）"
        )
        end = self._until(options["until"])
        history_started = time.monotonic()
        report = make_history(
            info, options["cases"], days=options["days"], end=end, seed=options["seed"],
            progress=lambda n: self.stdout.write(f"  已生成 {n} 件……"),
        )
        seconds = time.monotonic() - history_started
        rate = report.cases / seconds if seconds else 0
        self.stdout.write(
            f"案件：{report.cases} 件，事件 {report.events} 个，用时 {seconds:.1f} 秒"
            f"（{rate:.0f} 件/秒）；分布 {report.by_path}"
        )

    def _until(self, text: str | None) -> datetime | None:
        if not text:
            return None
        try:
            day = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            raise CommandError(f"--until 应为 YYYY-MM-DD，实际为 {text!r}") from None
        return datetime.combine(day, clock(18, 0), tzinfo=ZoneInfo("Asia/Shanghai"))

    def _print_logins(self) -> None:
        from linge.demo.city import NAMED_LOGINS
        from linge.people.models import User

        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for (_unit, _duty, _nth), (username, role) in NAMED_LOGINS:
            user = User.objects.filter(username=username).first()
            where = ""
            if user is not None:
                membership = user.memberships.select_related("unit").first()
                where = membership.unit.name if membership else ""
            self.stdout.write(f"  {username:<12} {role:<10} {where}")

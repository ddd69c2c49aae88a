"""`linge audit verify [--anchor FILE]`: walk the event hash chain, check its sealed head
and rebuild every case from its events; `linge audit anchor [--out PATH]`: write the
dated, sealed chain head outside the database."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from linge.cases.chain import Anchor, current_anchor, verify

log = logging.getLogger("linge.audit")


class Command(BaseCommand):
    help = ("校验案件事件哈希链、链尾签名和每个案件的记录（verify），或把链尾写到数据库之外（anchor）")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["verify", "anchor"],
                            help="verify: 校验；anchor: 写出带日期和签名的链尾锚点")
        parser.add_argument("--anchor", dest="anchor_file",
                            help="verify: 与此前写出的锚点文件比对")
        parser.add_argument("--out", help="anchor: 写到此文件（默认 $LINGE_VAR_DIR/anchors/ 下）")

    def handle(self, *args, **options) -> None:
        if options["what"] == "anchor":
            self._anchor(options.get("out"))
        else:
            self._verify(options.get("anchor_file"))

    def _anchor(self, out: str | None) -> None:
        anchor = current_anchor()
        if out:
            path = Path(out)
        else:
            stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
            path = settings.VAR_DIR / "anchors" / f"anchor-{stamp}-{anchor.seq}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(anchor.to_json() + "\n", encoding="utf-8")
        log.info("audit anchor: seq=%s hash=%s seal=%s at=%s", anchor.seq, anchor.hash,
                 anchor.seal, anchor.at)
        self.stdout.write(f"锚点已写出：{path}\n{anchor.to_json()}")

    def _verify(self, anchor_file: str | None) -> None:
        anchor = None
        if anchor_file:
            try:
                anchor = Anchor.from_json(Path(anchor_file).read_text(encoding="utf-8"))
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise CommandError(f"锚点文件无法读取：{error}") from None
        verdict = verify(anchor=anchor)
        if verdict.problem is not None:
            raise CommandError(
                f"事件链校验失败：{verdict.problem}（此前 {verdict.count} 个事件完好）")
        text = f"事件链完好：共 {verdict.count} 个事件，链尾签名正确，案件记录与事件一致"
        if anchor is not None:
            text += f"；与 {anchor.at} 的锚点（#{anchor.seq}）一致"
        if verdict.legacy_cases:
            text += (f"；其中 {verdict.legacy_cases} 件案件建于事件记录字段之前，"
                     "只核对了状态和此后记录的字段")
        self.stdout.write(self.style.SUCCESS(text))

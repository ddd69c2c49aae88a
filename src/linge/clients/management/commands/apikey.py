"""`linge apikey create NAME [--channels open311,api] [--rate N] [--user USERNAME]`,
`linge apikey revoke NAME`, `linge apikey list`.

`create` prints the new key alone on its last line (shown once; only its hash is kept).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from linge.clients import keys
from linge.clients.models import ApiKey, Channel


class Command(BaseCommand):
    help = "API keys for Open311 and /api/v1 clients: create, revoke, list"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        create = sub.add_parser("create", help="make a key; prints it alone on the last line")
        create.add_argument("name")
        create.add_argument("--channels", default=Channel.OPEN311,
                            help="comma-separated: open311, api (default open311)")
        create.add_argument("--rate", type=int, default=60, help="requests per minute")
        create.add_argument("--user", default="", help="username the key acts as on /api/v1")
        revoke = sub.add_parser("revoke", help="revoke a key by client name or prefix")
        revoke.add_argument("name")
        sub.add_parser("list", help="every key, live or revoked")

    def handle(self, *args, what: str, **options):
        if what == "create":
            self._create(options)
        elif what == "revoke":
            self._revoke(options["name"])
        else:
            self._list()

    def _create(self, options) -> None:
        name = options["name"].strip()
        if not name or ApiKey.objects.filter(name=name).exists():
            raise CommandError(f"a key named {name!r} exists already (or the name is empty)")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user {options['user']!r}")
        channels = [c.strip() for c in options["channels"].split(",") if c.strip()]
        try:
            made = keys.create(name, channels=channels, rate_per_minute=options["rate"],
                               user=user)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"created {made.api_key}: channels {made.api_key.channels}, "
                          f"{made.api_key.rate_per_minute}/min; the key is shown once:")
        self.stdout.write(made.key)

    def _revoke(self, name: str) -> None:
        row = ApiKey.objects.filter(name=name).first() or ApiKey.objects.filter(
            prefix=name).first()
        if row is None:
            raise CommandError(f"no key named {name!r}")
        keys.revoke(row)
        self.stdout.write(f"revoked {row}")

    def _list(self) -> None:
        for row in ApiKey.objects.select_related("user").order_by("name"):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "live"
            user = row.user.username if row.user else "-"
            self.stdout.write(f"{row.name}\t{row.prefix}\t{row.channels}\t"
                              f"{row.rate_per_minute}/min\t{user}\t{state}")

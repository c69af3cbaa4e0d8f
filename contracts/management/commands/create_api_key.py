from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from contracts.models import Team
from contracts.services.apikeys import apikey_create, apikey_lifetime_parse
from tessera_site.lib.errors import DomainError


class Command(BaseCommand):
    help = "Create an API key for a team and print it once (only its hash is stored)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--team", required=True, help="team slug")
        parser.add_argument("--scopes", default="read", help="comma-separated: read,write,admin")
        parser.add_argument("--name", default="cli", help="a label for the key")
        parser.add_argument(
            "--expires-in", default="", help="lifetime, e.g. 90d, 12h or 2w (default: never expires)"
        )

    def handle(self, *args, **options) -> None:
        try:
            team = Team.objects.get(slug=options["team"])
        except Team.DoesNotExist as exc:
            raise CommandError(f"Unknown team '{options['team']}'") from exc
        try:
            lifetime = apikey_lifetime_parse(options["expires_in"]) if options["expires_in"] else None
            key, secret = apikey_create(
                team=team,
                name=options["name"],
                scopes=options["scopes"],
                expires_at=timezone.now() + lifetime if lifetime else None,
            )
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        expiry = f", expiring {key.expires_at:%Y-%m-%d %H:%M} UTC" if key.expires_at else ""
        self.stderr.write(
            f"Key {key.prefix} for team {team.slug} with scopes {','.join(key.scopes)}{expiry}:"
        )
        self.stdout.write(secret)

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from contracts.models import Team
from contracts.services.apikeys import apikey_create
from tessera_site.lib.errors import ApiError


class Command(BaseCommand):
    help = "Create an API key for a team and print it once (only its hash is stored)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--team", required=True, help="team slug")
        parser.add_argument("--scopes", default="read", help="comma-separated: read,write,admin")
        parser.add_argument("--name", default="cli", help="a label for the key")

    def handle(self, *args, **options) -> None:
        try:
            team = Team.objects.get(slug=options["team"])
        except Team.DoesNotExist as exc:
            raise CommandError(f"Unknown team '{options['team']}'") from exc
        try:
            key, secret = apikey_create(team=team, name=options["name"], scopes=options["scopes"])
        except ApiError as exc:
            raise CommandError(exc.detail) from exc
        self.stderr.write(f"Key {key.prefix} for team {team.slug} with scopes {','.join(key.scopes)}:")
        self.stdout.write(secret)

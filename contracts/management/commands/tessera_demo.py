"""Set up and run the local demo: `make demo` (SQLite, in-process tasks, open API on loopback).

Steps: migrate; create the three demo teams with one lead each (logins printed); build the demo
dbt projects with real dbt (cached under var/demo/); sync core, marketing and finance; report
their run results; sync core's breaking variant so a proposal waits for the consumers; serve.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from contracts.models import TeamMembership
from contracts.services.teams import membership_set, team_ensure

DEMO_TEAMS = [
    ("data-platform", "Data Platform", "core"),
    ("marketing-analytics", "Marketing Analytics", "marketing"),
    ("finance-analytics", "Finance Analytics", "finance"),
]
DEMO_PASSWORD = "tessera-demo"  # noqa: S105 (a local demo login, printed on purpose)


class Command(BaseCommand):
    help = "Prepare the demo (teams, leads, dbt builds, syncs) and optionally serve it on 127.0.0.1:8000."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--serve", action="store_true", help="run the development server afterwards")
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument(
            "--skip-dbt", action="store_true", help="only teams and users, no dbt builds/syncs"
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("The demo runs with DEBUG=1 (make demo sets it).")
        call_command("migrate", interactive=False, verbosity=0)
        logins = self._teams_and_leads()
        if not options["skip_dbt"]:
            self._build_and_sync()
        self._print_intro(logins, options["addrport"])
        if options["serve"]:
            call_command("runserver", options["addrport"], use_reloader=False)

    @transaction.atomic
    def _teams_and_leads(self) -> list[tuple[str, str]]:
        user_model = get_user_model()
        logins = []
        for slug, name, short in DEMO_TEAMS:
            team, _ = team_ensure(slug=slug, name=name, email=f"{slug}@example.com")
            username = f"{short}-lead"
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@example.com", "first_name": name.split()[0]},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            membership_set(team=team, user=user, role=TeamMembership.Role.LEAD)
            logins.append((slug, username))
        admin = user_model.objects.filter(username="admin").first()
        if admin is None:
            user_model.objects.create_superuser("admin", "admin@example.com", DEMO_PASSWORD)
        return logins

    def _build_and_sync(self) -> None:
        from contracts.demo import demo_build_and_sync

        demo_build_and_sync(stdout=self.stdout, root=Path(settings.VAR_DIR) / "demo")

    def _print_intro(self, logins: list[tuple[str, str]], addrport: str) -> None:
        w = self.stdout.write
        w("")
        w(self.style.SUCCESS(f"Tessera demo ready on http://{addrport}/"))
        w(f"Log in with any of these (password: {DEMO_PASSWORD}):")
        for slug, username in logins:
            w(f"  {username:<18} lead of {slug}")
        w(f"  {'admin':<18} Django admin at http://{addrport}/admin/")
        w("")
        w("Start with marketing-lead: the home page shows core's breaking change to dim_customers")
        w("waiting for marketing-analytics' answer; its email, with working buttons, is in the Outbox.")
        w(f"The API is open on loopback in the demo: curl http://{addrport}/api/v1/health")

"""Email: render from templates/emails/<kind>.{subject.txt,txt,html}, record, then send once.

Every email is recorded as an OutboundEmail row (with a dedupe key) *before* it is sent, so a
retried or redelivered task finds the row already sent and sends nothing, and the DEBUG outbox
can show every email. Only Celery tasks call ``email_send``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

# lib imports no app: the outbox model is named by a setting (as Django names its user model),
# and the team / proposal an email concerns are the app's models, only passed through.
Team = Any
Proposal = Any
OutboundEmail = Any


def _outbox_model() -> Any:
    return apps.get_model(settings.TESSERA_OUTBOUND_EMAIL_MODEL)


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def email_render(kind: str, context: dict[str, Any]) -> RenderedEmail:
    context = {"base_url": settings.TESSERA_BASE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{kind}.subject.txt", context).split())
    text = render_to_string(f"emails/{kind}.txt", context).strip() + "\n"
    html = render_to_string(f"emails/{kind}.html", context)
    return RenderedEmail(subject=subject[:300], text=text, html=html)


def team_recipients(team: Team) -> list[str]:
    """The team's notification address and its members' addresses, deduplicated, in a stable order."""
    addresses: list[str] = []
    if team.email:
        addresses.append(team.email)
    for address in team.members.exclude(email="").order_by("email").values_list("email", flat=True):
        addresses.append(address)
    seen: set[str] = set()
    unique = []
    for address in addresses:
        if address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique


def email_send(
    *,
    kind: str,
    dedupe_key: str,
    to: Iterable[str],
    context: dict[str, Any],
    team: Team | None = None,
    proposal: Proposal | None = None,
) -> OutboundEmail:
    """Send one email at most once per ``dedupe_key`` (a sent row is never sent again)."""
    row = _email_row(kind=kind, dedupe_key=dedupe_key, to=to, context=context, team=team, proposal=proposal)
    if row.status == row.Status.SENT:
        return row
    row, failure = _email_deliver(row)
    if failure:
        raise EmailSendError(failure)
    return row


def _email_row(
    *,
    kind: str,
    dedupe_key: str,
    to: Iterable[str],
    context: dict[str, Any],
    team: Team | None,
    proposal: Proposal | None,
) -> OutboundEmail:
    """The email's outbox row: the one recorded under ``dedupe_key`` already, or a new one rendered now."""
    OutboundEmail = _outbox_model()  # noqa: N806 (a model class)
    recipients = list(dict.fromkeys(a for a in to if a))
    row = OutboundEmail.objects.filter(dedupe_key=dedupe_key).first()
    if row is not None:
        return row
    rendered = email_render(kind, context)
    try:
        with transaction.atomic():
            return OutboundEmail.objects.create(
                dedupe_key=dedupe_key[:300],
                kind=kind,
                team=team,
                proposal=proposal,
                to=recipients,
                subject=rendered.subject,
                text_body=rendered.text,
                html_body=rendered.html,
            )
    except IntegrityError:
        return OutboundEmail.objects.get(dedupe_key=dedupe_key[:300])


def _email_deliver(row: OutboundEmail) -> tuple[OutboundEmail, str]:
    """Send a recorded email unless it is sent already; returns the row and the failure, if any.

    The failure is raised by the caller after the commit, so that it stays recorded on the row.
    """
    OutboundEmail = type(row)  # noqa: N806 (a model class)
    # The row lock serialises two deliveries of the same task: the second waits, then sees "sent".
    with transaction.atomic():
        row = OutboundEmail.objects.select_for_update().get(pk=row.pk)
        if row.status == OutboundEmail.Status.SENT:
            return row, ""
        if not row.to:
            row.status = OutboundEmail.Status.FAILED
            row.error = (
                "No recipients: the team has no notification address and no members with an email address"
            )
            row.save(update_fields=["status", "error"])
            return row, ""
        message = EmailMultiAlternatives(
            subject=row.subject,
            body=row.text_body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=row.to,
            headers={"X-Tessera-Email": row.kind},
        )
        if row.html_body:
            message.attach_alternative(row.html_body, "text/html")
        try:
            message.send(fail_silently=False)
        except Exception as exc:  # SMTP and socket errors differ per backend; the task retries
            row.status = OutboundEmail.Status.FAILED
            row.error = f"{exc.__class__.__name__}: {exc}"[:5000]
            row.save(update_fields=["status", "error"])
            return row, row.error
        row.status = OutboundEmail.Status.SENT
        row.error = ""
        row.sent_at = timezone.now()
        row.save(update_fields=["status", "error", "sent_at"])
    return row, ""


class EmailSendError(Exception):
    """Sending failed; the row says why and a retry of the task tries again."""

"""``{% answer_form %}``: the answer buttons of one team on one proposal, built in Python.

``proposals/_answer_form.html`` draws them with this tag, so the home page (ten of them), the
proposal page and the htmx answer view all give the same markup. As template variables (some
fifty lookups, localizations and escapes, three CSRF fields, six conditions per form) the ten
forms were a third of the home page's render; here each is one ``format_html`` with the same
markup and the same escaping.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.defaultfilters import date
from django.template.defaulttags import CsrfTokenNode
from django.utils.html import format_html

from contracts.templatetags.tessera_urls import url_of

register = template.Library()

_FORM = """<div class="answer-form" id="answer-form-{pk}-{slug}" data-team="{slug}">
  {error}
  {status}
  {buttons}
</div>
"""
_ERROR = '<p class="error" role="alert" tabindex="-1" data-focus-after-swap>{}</p>'
_SAVED = (
    '<p class="ok" tabindex="-1" data-focus-after-swap data-announce data-announce-key="answer-{pk}-{slug}-{revision}">'
    "Recorded for {slug} on proposal #{pk}: {answer}{ready}.</p>\n  "
)
_ANSWERED = (
    '<p class="muted small">{slug} answered: <strong>{answer}</strong>{ready}. '
    "You can change it while the proposal is open.</p>"
)
_READY = " (ready by {})"
_CLOSED = """
  <p class="muted small">This proposal is {}; answers are closed.</p>
  """
_OPEN = """
  <form method="post" action="{url}" class="answer-approve inline"
        hx-post="{url}" hx-target="#answer-form-{pk}-{slug}" hx-swap="outerHTML">
    {csrf}<input type="hidden" name="team" value="{slug}">
    <button type="submit" name="answer" value="approved" class="primary">Approve<span class="sr-only"> proposal #{pk} ({name}) for {slug}</span></button>
  </form>
  <form method="post" action="{url}" class="answer-migrating"
        hx-post="{url}" hx-target="#answer-form-{pk}-{slug}" hx-swap="outerHTML">
    {csrf}<input type="hidden" name="team" value="{slug}">
    <label>Ready by<span class="sr-only"> ({slug}, proposal #{pk})</span> <input type="date" name="ready_by" required value="{ready_by}"></label>
    <button type="submit" name="answer" value="migrating">Need time<span class="sr-only"> on proposal #{pk} ({name}) for {slug}</span></button>
  </form>
  <form method="post" action="{url}" class="answer-blocked"
        hx-post="{url}" hx-target="#answer-form-{pk}-{slug}" hx-swap="outerHTML">
    {csrf}<input type="hidden" name="team" value="{slug}">
    <label>Reason<span class="sr-only"> for blocking ({slug}, proposal #{pk})</span> <input type="text" name="reason" required maxlength="2000" placeholder="What would break for you?"></label>
    <button type="submit" name="answer" value="blocked" class="danger">Block<span class="sr-only"> proposal #{pk} ({name}) for {slug}</span></button>
  </form>
  """


def _ready(answer: Any) -> str:
    return format_html(_READY, date(answer.ready_by, "Y-m-d")) if answer.ready_by else ""


def _status(pk: int, slug: str, saved: Any, ack: Any) -> str:
    """What the team answered: just now (``saved``), or before (``ack``)."""
    if saved:
        answer = saved.get_answer_display()
        return format_html(
            _SAVED, pk=pk, slug=slug, revision=saved.revision, answer=answer, ready=_ready(saved)
        )
    if ack:
        return format_html(_ANSWERED, slug=slug, answer=ack.get_answer_display(), ready=_ready(ack))
    return ""


def answer_form_html(
    context: template.Context, *, proposal: Any, team: Any, ack: Any, error: str = "", saved: Any = None
) -> str:
    """The form of ``team`` on ``proposal``, whose current answer is ``ack``; ``error`` and
    ``saved`` when the answer view re-renders it."""
    pk, slug = proposal.pk, team.slug
    if proposal.is_open:
        buttons = format_html(
            _OPEN,
            url=url_of(pk, "proposal_answer"),
            pk=pk,
            slug=slug,
            csrf=CsrfTokenNode().render(context),
            name=proposal.asset.display_name,
            ready_by=date(ack.ready_by, "Y-m-d") if ack else "",
        )
    else:
        buttons = format_html(_CLOSED, proposal.get_status_display())
    return format_html(
        _FORM,
        pk=pk,
        slug=slug,
        error=format_html(_ERROR, error) if error else "",
        status=_status(pk, slug, saved, ack),
        buttons=buttons,
    )


@register.simple_tag(takes_context=True)
def answer_form(context: template.Context) -> str:
    """The form for ``proposal``, ``team`` and the team's ``acknowledgment`` in the context
    (with ``answer_error`` and ``answer_saved`` when the answer view re-renders it)."""
    return answer_form_html(
        context,
        proposal=context["proposal"],
        team=context["team"],
        ack=context.get("acknowledgment"),
        error=context.get("answer_error") or "",
        saved=context.get("answer_saved"),
    )

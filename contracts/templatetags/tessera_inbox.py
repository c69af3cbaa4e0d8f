"""``{% waiting_item %}``: one proposal waiting for one of our teams' answers, on the home page.

Built in Python like its answer form (``tessera_answer_form``): ten of these, some twenty-five
template variables each, were most of what the home page's inbox still cost to render. Same
markup and escaping as the template gave; ``contracts/_waiting_item.html`` calls it.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.defaultfilters import date, timeuntil_filter
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import localtime

from contracts.templatetags.tessera_answer_form import answer_form_html
from contracts.templatetags.tessera_urls import url_of

register = template.Library()

_ITEM = """
<article class="item waiting-item" id="waiting-{pk}-{slug}">
  <div class="item-head">
    <a href="{url}"><strong>{name}</strong> #{pk}</a>
    {public}
    <span class="muted small">from {owner} · asks {slug}</span>
  </div>
  {deployed}
  <ul class="reasons small">
    {reasons}
    {more}
  </ul>
  <p class="muted small">Deadline {deadline} ({until})</p>
  {answer}
</article>
"""
_PUBLIC = (
    '<span class="badge access-public" title="dbt access public: other projects read it">public model</span>'
)
_DEPLOYED = (
    '<p class="alert small">Already deployed: the warehouse changed; the contract waits for your answer.</p>'
)
_MORE = '<li class="muted"><a href="{}">{} more…</a></li>'
_LINK = (
    '\n    <a class="btn primary" href="{url}">Answer<span class="sr-only"> proposal #{pk} ({name}) for {slug}'
    "</span></a>\n  "
)


def _reasons(verdict: Any) -> list[Any]:
    reasons = verdict.get("reasons") if isinstance(verdict, dict) else None
    return list(reasons) if reasons else []


@register.simple_tag(takes_context=True)
def waiting_item(context: template.Context) -> str:
    """The context's ``item`` (a ``WaitingItem``), with its answer form when ``answer_partial``."""
    item = context["item"]
    p, team = item.proposal, item.team
    url = url_of(p.pk, "proposal_detail")
    reasons = _reasons(p.verdict)
    if context.get("answer_partial"):
        form = answer_form_html(context, proposal=p, team=team, ack=item.answer)
        answer = format_html("\n    \n\n\n{}\n\n  ", form)
    else:
        answer = format_html(_LINK, url=url, pk=p.pk, name=p.asset.display_name, slug=team.slug)
    deadline = localtime(p.deadline) if p.deadline else None  # as the date filter sees it
    return format_html(
        _ITEM,
        pk=p.pk,
        slug=team.slug,
        url=url,
        name=p.asset.display_name,
        public=SafeString(_PUBLIC) if p.asset.access == "public" else "",
        owner=p.asset.owner_team.slug,
        deployed=SafeString(_DEPLOYED) if p.origin == "sync" else "",
        reasons=format_html_join("", "<li>{}</li>", ((r,) for r in reasons[:3])),
        more=format_html(_MORE, url, len(reasons) - 3) if len(reasons) > 3 else "",
        deadline=date(deadline, "j M Y"),
        until=timeuntil_filter(p.deadline),
        answer=answer,
    )

"""The DEBUG outbox: every recorded email, rendered, with its real signed buttons.

Lets the demo be followed end to end on one machine without a mail server. 404 unless DEBUG.
"""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from contracts.models import OutboundEmail
from tessera_site.lib.htmx import HtmxHttpRequest

# Links inside the previewed email leave the iframe, as they would leave a mail client.
_TOP_TARGET = '<base target="_top">'


def _require_debug() -> None:
    if not settings.DEBUG:
        raise Http404("The outbox exists only in DEBUG")


@require_GET
def outbox(request: HtmxHttpRequest) -> HttpResponse:
    _require_debug()
    emails = OutboundEmail.objects.select_related("team", "proposal")
    team = request.GET.get("team", "").strip()
    if team:
        emails = emails.filter(team__slug=team)
    rows = [{"email": e} for e in emails[:100]]
    return render(request, "outbox/list.html", {"rows": rows, "team": team})


@require_GET
@xframe_options_sameorigin
# Emails carry their styles inline (mail clients ignore stylesheets), and the outbox page frames them:
# only this page relaxes the site's policy, and it runs no script.
@csp_replace({"style-src": [SELF, UNSAFE_INLINE], "frame-ancestors": [SELF]})
def outbox_email(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One email's HTML exactly as sent (rendered by our own autoescaping templates); `?preview=1`
    (the outbox's frames) makes its links leave the frame."""
    _require_debug()
    email = get_object_or_404(OutboundEmail, pk=pk)
    if request.GET.get("format") == "text" or not email.html_body:
        return HttpResponse(email.text_body, content_type="text/plain; charset=utf-8")
    html = (_TOP_TARGET if request.GET.get("preview") else "") + email.html_body
    return HttpResponse(mark_safe(html))  # noqa: S308 (our own rendered, escaped template output)

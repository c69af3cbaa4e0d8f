"""The answer buttons built by ``{% answer_form %}`` (contracts/templatetags/tessera_answer_form.py):
the markup the template gave, escaping included, for the cases the home page never shows."""

from __future__ import annotations

import datetime
import re

from django.template.loader import render_to_string
from django.test import RequestFactory

from contracts.models import Acknowledgment, Asset, Proposal, Team


def _render(**context) -> str:
    request = RequestFactory().get("/")
    return render_to_string("proposals/_answer_form.html", context, request=request)


def _objects(status: str = "open") -> tuple[Proposal, Team]:
    asset = Asset(pk=3, name='orders<b> & "x"')
    return Proposal(pk=41, status=status, asset=asset), Team(pk=2, slug="team-x", name="Team X")


def test_an_open_proposal_gets_three_forms_naming_it_with_the_name_escaped():
    proposal, team = _objects()
    html = _render(proposal=proposal, team=team, acknowledgment=None)
    assert html.startswith('\n\n\n<div class="answer-form" id="answer-form-41-team-x" data-team="team-x">\n')
    assert html.endswith("  </form>\n  \n</div>\n\n")
    assert len(re.findall(r'name="csrfmiddlewaretoken" value="[^"]{64}"', html)) == 3
    assert html.count('action="/proposals/41/answer/"') == 3
    assert (
        'Approve<span class="sr-only"> proposal #41 (orders&lt;b&gt; &amp; &quot;x&quot;) for team-x</span>'
        in html
    )
    assert 'name="ready_by" required value=""' in html


def test_a_saved_answer_an_error_and_an_earlier_ready_by_are_shown():
    proposal, team = _objects()
    saved = Acknowledgment(
        proposal=proposal, team=team, answer="migrating", revision=3, ready_by=datetime.date(2027, 1, 2)
    )
    html = _render(
        proposal=proposal, team=team, acknowledgment=saved, answer_saved=saved, answer_error="Bad <date>"
    )
    assert '<p class="error" role="alert" tabindex="-1" data-focus-after-swap>Bad &lt;date&gt;</p>\n' in html
    assert (
        'data-announce-key="answer-41-team-x-3">Recorded for team-x on proposal #41: needs migration time '
        "(ready by 2027-01-02).</p>\n  \n" in html
    )
    assert 'name="ready_by" required value="2027-01-02"' in html


def test_a_closed_proposal_says_so_instead_of_the_buttons():
    proposal, team = _objects(status="published")
    ack = Acknowledgment(proposal=proposal, team=team, answer="approved", revision=1)
    html = _render(proposal=proposal, team=team, acknowledgment=ack)
    assert "<form" not in html
    assert (
        '<p class="muted small">team-x answered: <strong>approved</strong>. You can change it while the '
        'proposal is open.</p>\n  \n  <p class="muted small">This proposal is published; answers are closed.</p>\n'
    ) in html


def test_a_waiting_item_of_a_public_deployed_change_with_five_reasons():
    from django.utils import timezone

    from contracts.selectors.dashboard.home import WaitingItem

    proposal, team = _objects()
    proposal.asset.access, proposal.asset.owner_team = "public", Team(pk=7, slug="owners", name="O")
    proposal.origin, proposal.verdict = "sync", {"reasons": ["a <b>", "c", "d", "e", "f"]}
    proposal.deadline = timezone.now() + datetime.timedelta(days=3, hours=1)
    html = render_to_string(
        "contracts/_waiting_item.html",
        {"item": WaitingItem(proposal, team, None), "answer_partial": False},
        request=RequestFactory().get("/"),
    )
    assert html.startswith('\n<article class="item waiting-item" id="waiting-41-team-x">\n')
    assert '<span class="badge access-public"' in html and "Already deployed:" in html
    assert "    <li>a &lt;b&gt;</li><li>c</li><li>d</li>\n" in html
    assert '<li class="muted"><a href="/proposals/41/">2 more…</a></li>\n' in html
    assert '<span class="muted small">from owners · asks team-x</span>' in html
    assert html.endswith(
        '    <a class="btn primary" href="/proposals/41/">Answer<span class="sr-only"> proposal #41 '
        "(orders&lt;b&gt; &amp; &quot;x&quot;) for team-x</span></a>\n  \n</article>\n\n"
    )

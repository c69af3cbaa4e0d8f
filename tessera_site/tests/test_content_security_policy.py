"""Every HTML page carries the Content-Security-Policy, and no page needs what it forbids (inline
scripts, event-handler attributes, style attributes or <style> blocks). The browser tests check the
same pages in Chromium with the policy enforced (tests/browser/test_accessibility.py)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from contracts.tests.workflow_setup import make_story, open_breaking

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
STYLE_BLOCK = re.compile(r"<style[\s>]", re.I)


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def _pages(story, proposal) -> list[str]:
    asset = story.asset
    return [
        reverse("login"),
        reverse("home"),
        reverse("asset_list"),
        reverse("asset_detail", args=[asset.pk]),
        reverse("version_diff", args=[asset.pk, proposal.base_version_id, proposal.proposed_version_id]),
        reverse("proposal_detail", args=[proposal.pk]),
        reverse("lineage"),
        reverse("upload"),
        reverse("event_log"),
        reverse("team_detail", args=["marketing-analytics"]),
        reverse("outbox"),
        reverse("answer_link", args=["not-a-token"]),
    ]


@pytest.fixture
def signed_in_story(client, db, settings):
    settings.DEBUG = True  # the outbox exists only in DEBUG
    story = make_story()
    proposal = open_breaking(story)
    client.force_login(story.marketing_user)
    return story, proposal


def test_every_page_sends_the_policy_and_needs_nothing_inline(client, signed_in_story):
    story, proposal = signed_in_story
    for path in _pages(story, proposal):
        response = client.get(path)
        assert response.status_code in (200, 400), path
        policy = _directives(response["Content-Security-Policy"])
        assert policy["frame-ancestors"] == ["'none'"], path
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"], path
        html = response.content.decode()
        for pattern in (INLINE_SCRIPT, HANDLER_ATTRIBUTE, STYLE_ATTRIBUTE, STYLE_BLOCK):
            found = pattern.search(html)
            assert not found, f"{path}: {found.group(0)[:120]}"


def test_htmx_is_told_not_to_inject_styles_or_eval(client, signed_in_story):
    html = client.get(reverse("home")).content.decode()
    assert '"includeIndicatorStyles": false' in html and '"allowEval": false' in html


def test_json_and_error_responses_carry_the_policy_too(client, db):
    assert "frame-ancestors 'none'" in client.get("/api/v1/health")["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in client.get("/no-such-page/")["Content-Security-Policy"]


def test_only_the_outbox_email_frame_relaxes_the_policy(client, signed_in_story):
    """Emails keep their styles inline (mail clients ignore stylesheets); the DEBUG outbox frames
    them from its own page, so that one response allows inline styles and a same-origin parent."""
    from contracts.models import OutboundEmail
    from contracts.tasks.workflow import proposal_opened_emails_task

    _story, proposal = signed_in_story
    proposal_opened_emails_task(proposal.pk)
    email = OutboundEmail.objects.filter(proposal=proposal).first()
    response = client.get(reverse("outbox_email", args=[email.pk]) + "?preview=1")
    policy = _directives(response["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"] and policy["script-src"] == ["'self'"]
    assert response.content.decode().startswith('<base target="_top">')
    listing = client.get(reverse("outbox")).content.decode()
    assert f'src="{reverse("outbox_email", args=[email.pk])}?preview=1"' in listing
    assert "srcdoc" not in listing  # a srcdoc frame would inherit the strict policy

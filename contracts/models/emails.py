"""Outbound emails, recorded before sending."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from contracts.models.proposals import Proposal
from contracts.models.teams import Team


class OutboundEmail(models.Model):
    """Every email Tessera sends, recorded before sending; the dedupe key makes task retries
    harmless, and in DEBUG the outbox page renders these."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    dedupe_key = models.CharField(max_length=300, unique=True)
    kind = models.CharField(max_length=64)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails")
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject

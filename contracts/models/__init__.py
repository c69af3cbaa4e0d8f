"""Tessera's domain: teams, projects, assets, versioned contracts, consumers, proposals, the audit log.

Model methods hold only each model's own behaviour; workflows spanning models live in
``contracts.services``; reads in ``contracts.selectors``. One module per concept; everything is
re-exported here so ``from contracts.models import Asset`` works.
"""

from __future__ import annotations

from contracts.models.assets import Asset, AssetNode, LineageEdge, Project
from contracts.models.choices import MODE_CHOICES
from contracts.models.column_usage import ColumnUsage, ColumnUsageRun, ModelSql, ProposalImpact
from contracts.models.deprecations import CampaignReader, DeprecationCampaign, DeprecationReminder
from contracts.models.emails import OutboundEmail
from contracts.models.events import Event
from contracts.models.exposures import DbtGroup, Exposure, ExposureAsset
from contracts.models.notifications import NotificationSwitch, SlackMessage, SlackWebhook
from contracts.models.outbox import OutboxAttempt, OutboxMessage
from contracts.models.ownership import AssetTransfer, ProjectOwnerConsent
from contracts.models.proposals import Acknowledgment, Proposal
from contracts.models.references import PendingReference
from contracts.models.registrations import Registration
from contracts.models.syncs import SyncRun
from contracts.models.teams import ApiKey, Team, TeamMembership
from contracts.models.versions import ContractVersion, Guarantee
from contracts.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "MODE_CHOICES",
    "Team",
    "TeamMembership",
    "ApiKey",
    "Project",
    "Asset",
    "AssetNode",
    "LineageEdge",
    "ProjectOwnerConsent",
    "AssetTransfer",
    "ContractVersion",
    "Guarantee",
    "Registration",
    "Exposure",
    "ExposureAsset",
    "DbtGroup",
    "Proposal",
    "Acknowledgment",
    "SyncRun",
    "Event",
    "WebhookEndpoint",
    "WebhookDelivery",
    "WebhookAttempt",
    "OutboundEmail",
    "OutboxMessage",
    "OutboxAttempt",
    "SlackWebhook",
    "SlackMessage",
    "NotificationSwitch",
    "ModelSql",
    "ColumnUsage",
    "ColumnUsageRun",
    "ProposalImpact",
    "PendingReference",
    "DeprecationCampaign",
    "CampaignReader",
    "DeprecationReminder",
]

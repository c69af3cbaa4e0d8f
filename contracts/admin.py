from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest

from contracts import models
from contracts.services.apikeys import apikey_create, apikey_revoke


class MembershipInline(admin.TabularInline):
    model = models.TeamMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "email", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["slug", "name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(models.ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here with a name and scopes; the secret is shown once in a message."""

    list_display = ["name", "team", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["team"]
    fields = ["team", "name", "scopes", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: models.ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, secret = apikey_create(
            team=obj.team, name=obj.name, scopes=obj.scopes or ["read"], created_by=request.user
        )
        obj.pk = key.pk
        obj.prefix = key.prefix
        obj.secret_hash = key.secret_hash
        messages.warning(request, f"API key created. Copy it now, it will not be shown again: {secret}")

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset) -> None:
        for key in queryset:
            apikey_revoke(key=key)


@admin.register(models.Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner_team", "last_synced_at"]
    search_fields = ["name"]


@admin.register(models.Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["relation", "resource_type", "owner_team", "project", "compatibility_mode", "status"]
    list_filter = ["resource_type", "status", "compatibility_mode", "owner_team"]
    search_fields = ["relation", "name", "unique_id"]
    raw_id_fields = ["active_version", "project", "owner_team"]
    fields = [
        "relation",
        "unique_id",
        "name",
        "owner_team",
        "project",
        "resource_type",
        "compatibility_mode",
        "status",
        "proposal_deadline_days",
        "requires_passing_audit",
        "audit_max_age_hours",
        "description",
    ]
    readonly_fields = ["relation", "unique_id", "name", "resource_type"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(models.ContractVersion)
class ContractVersionAdmin(ReadOnlyAdmin):
    list_display = ["asset", "semver", "status", "change_kind", "created_at"]
    list_filter = ["status", "change_kind"]


@admin.register(models.Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["asset", "team", "origin", "created_at"]
    list_filter = ["origin", "team"]
    raw_id_fields = ["asset"]


@admin.register(models.Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = ["id", "asset", "origin", "status", "deadline", "created_at"]
    list_filter = ["status", "origin"]


@admin.register(models.Acknowledgment)
class AcknowledgmentAdmin(ReadOnlyAdmin):
    list_display = ["proposal", "team", "answer", "ready_by", "updated_at"]


@admin.register(models.SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "project", "mode", "status", "created_at", "finished_at"]
    list_filter = ["status", "mode"]


@admin.register(models.Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "actor_label", "team", "asset", "proposal"]
    list_filter = ["kind"]


@admin.register(models.WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "team", "is_active", "created_at"]


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["endpoint", "event", "status", "attempts", "delivered_at"]


@admin.register(models.OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "subject", "status"]

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from contracts import models
from contracts.selectors.notifications import NOTICE_KINDS, channel_applies
from contracts.selectors.teams import actor_for_user
from contracts.services.apikeys import apikey_create, apikey_revoke
from contracts.services.notification_settings import slack_url_clean, slack_webhook_remove, slack_webhook_set
from contracts.services.ownership import (
    asset_transfer_request,
    project_consent_grant,
    project_consent_revoke,
)
from tessera_site.lib.errors import DomainError


class MembershipInline(admin.TabularInline):
    model = models.TeamMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "email", "slack", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["slug", "name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    @admin.display(description="Slack")
    def slack(self, obj: models.Team) -> str:
        webhook = models.SlackWebhook.objects.filter(team=obj).first()
        return webhook.masked_url if webhook else "—"


@admin.register(models.ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here with a name and scopes; the secret is shown once in a message."""

    list_display = ["name", "team", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "state"]
    list_filter = ["team"]
    fields = ["team", "name", "scopes", "expires_at", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: models.ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, secret = apikey_create(
            team=obj.team,
            name=obj.name,
            scopes=obj.scopes or ["read"],
            created_by=request.user,
            expires_at=obj.expires_at,
        )
        obj.pk = key.pk
        obj.prefix = key.prefix
        obj.secret_hash = key.secret_hash
        messages.warning(request, f"API key created. Copy it now, it will not be shown again: {secret}")

    @admin.display(description="state")
    def state(self, obj: models.ApiKey) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        return "expired" if obj.is_expired else "active"

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset) -> None:
        for key in queryset:
            apikey_revoke(key=key)


class OwnerConsentInline(admin.TabularInline):
    """Teams that allow this project's models to name them as owner (each team can also say so
    itself through the API)."""

    model = models.ProjectOwnerConsent
    extra = 1
    fields = ["team", "granted_by", "created_at"]
    readonly_fields = ["granted_by", "created_at"]


@admin.register(models.Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner_team", "last_synced_at"]
    search_fields = ["name"]
    inlines = [OwnerConsentInline]

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """Consents go through the ownership service, so an admin's are recorded as events too."""
        if formset.model is not models.ProjectOwnerConsent:
            super().save_formset(request, form, formset, change)
            return
        actor = actor_for_user(request.user)
        project = form.instance
        consents = formset.save(commit=False)
        for consent in formset.deleted_objects:
            project_consent_revoke(project=project, team=consent.team, actor=actor)
        for consent, _changed in formset.changed_objects:
            previous = models.ProjectOwnerConsent.objects.get(pk=consent.pk)
            project_consent_revoke(project=project, team=previous.team, actor=actor)
        for consent in consents:
            project_consent_grant(project=project, team=consent.team, actor=actor)


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

    def save_model(self, request: HttpRequest, obj: models.Asset, form, change: bool) -> None:
        """A change of owner team or project here is an administrator's transfer: recorded as
        events like any other, and refused if the new team may not own assets in that project."""
        moved = change and {"owner_team", "project"} & set(form.changed_data)
        if not moved:
            super().save_model(request, obj, form, change)
            return
        to_team, to_project = obj.owner_team, obj.project
        before = models.Asset.objects.get(pk=obj.pk)
        obj.owner_team, obj.project = before.owner_team, before.project
        super().save_model(request, obj, form, change)
        try:
            asset_transfer_request(
                asset=obj, to_team=to_team, to_project=to_project, actor=actor_for_user(request.user)
            )
        except DomainError as exc:
            messages.error(request, f"The owner was not changed: {exc.detail}")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(models.AssetTransfer)
class AssetTransferAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "asset",
        "from_team",
        "to_team",
        "to_project",
        "status",
        "created_at",
        "resolved_at",
    ]
    list_filter = ["status"]


@admin.register(models.ContractVersion)
class ContractVersionAdmin(ReadOnlyAdmin):
    list_display = ["asset", "semver", "status", "change_kind", "created_at"]
    list_filter = ["status", "change_kind"]


@admin.register(models.Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["asset", "team", "origin", "created_at"]
    list_filter = ["origin", "team"]
    raw_id_fields = ["asset"]


@admin.register(models.PendingReference)
class PendingReferenceAdmin(ReadOnlyAdmin):
    """Cross-project refs waiting for their upstream project's sync (written and linked by syncs)."""

    list_display = ["unique_id", "project", "upstream_project", "created_at"]
    list_filter = ["upstream_project"]


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


class WebhookAttemptInline(admin.TabularInline):
    model = models.WebhookAttempt
    fields = readonly_fields = ("attempted_at", "status_code", "error", "duration_ms")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["endpoint", "event", "status", "attempts", "delivered_at"]
    inlines = [WebhookAttemptInline]


@admin.register(models.OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "subject", "status"]


@admin.register(models.OutboxAttempt)
class OutboxAttemptAdmin(ReadOnlyAdmin):
    list_display = ["attempted_at", "message", "ok", "status_code", "error", "duration_ms"]
    list_filter = ["ok"]


class OutboxAttemptInline(admin.TabularInline):
    model = models.OutboxAttempt
    fields = readonly_fields = ("attempted_at", "ok", "status_code", "error", "duration_ms")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(models.OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """Every side effect (emails, webhook fan-outs, Slack posts) and each attempt at it."""

    list_display = ["created_at", "kind", "status", "attempts", "next_attempt_at", "sent_at", "last_error"]
    list_filter = ["status", "kind"]
    inlines = [OutboxAttemptInline]


class SlackWebhookForm(forms.ModelForm):
    """The URL is a secret: the form never shows it back (only masked); empty keeps the current one."""

    url = forms.CharField(
        label="Incoming-webhook URL",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 80}),
    )

    class Meta:
        model = models.SlackWebhook
        fields = ["team", "url", "is_active"]

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["url"].help_text = f"Now {self.instance.masked_url}. Leave empty to keep it."

    def clean_url(self) -> str:
        url = self.cleaned_data.get("url", "").strip()
        if not url and self.instance.pk:
            return self.instance.url
        try:
            return slack_url_clean(url)
        except DomainError as exc:
            raise forms.ValidationError(exc.detail) from None


@admin.register(models.SlackWebhook)
class SlackWebhookAdmin(admin.ModelAdmin):
    form = SlackWebhookForm
    list_display = ["team", "masked_url", "is_active", "updated_at"]
    list_filter = ["is_active"]

    def save_model(self, request: HttpRequest, obj: models.SlackWebhook, form, change: bool) -> None:
        """Through the service, so connecting a channel is an event like in the API."""
        if obj.is_active:
            webhook = slack_webhook_set(team=obj.team, url=obj.url, actor=actor_for_user(request.user))
            obj.pk, obj.created_at, obj.updated_at = webhook.pk, webhook.created_at, webhook.updated_at
        else:
            super().save_model(request, obj, form, change)

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:  # type: ignore[no-untyped-def]
        return ["team"] if obj is not None else []

    def delete_model(self, request: HttpRequest, obj: models.SlackWebhook) -> None:
        slack_webhook_remove(team=obj.team, actor=actor_for_user(request.user))


@admin.register(models.SlackMessage)
class SlackMessageAdmin(ReadOnlyAdmin):
    """Each Slack message and every attempt to post it (status code, error, time)."""

    list_display = ["created_at", "kind", "team", "proposal", "status", "attempts", "sent_at"]
    list_filter = ["kind", "team"]
    fields = readonly_fields = (
        "created_at",
        "kind",
        "team",
        "proposal",
        "dedupe_key",
        "sent_at",
        "attempt_table",
        "payload",
    )

    def get_queryset(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).select_related("team", "outbox")

    @admin.display(description="attempts")
    def attempts(self, obj: models.SlackMessage) -> int:
        return obj.outbox.attempts if obj.outbox else 0

    @admin.display(description="attempts")
    def attempt_table(self, obj: models.SlackMessage) -> str:
        rows = models.OutboxAttempt.objects.filter(message_id=obj.outbox_id).order_by("attempted_at", "id")
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((a.attempted_at, a.status_code or "—", "ok" if a.ok else "failed", a.error) for a in rows),
        )
        return format_html(
            "<table><tr><th>time</th><th>status code</th><th>outcome</th><th>error</th></tr>{}</table>", body
        )


class NotificationSwitchForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=list(NOTICE_KINDS.items()))

    class Meta:
        model = models.NotificationSwitch
        fields = ["team", "kind", "channel", "enabled"]

    def clean(self) -> dict:  # type: ignore[type-arg]
        data = super().clean() or {}
        if data.get("kind") and data.get("channel") and not channel_applies(data["kind"], data["channel"]):
            raise forms.ValidationError(f"The {data['channel']} channel carries no {data['kind']} notice")
        return data


@admin.register(models.NotificationSwitch)
class NotificationSwitchAdmin(admin.ModelAdmin):
    """Teams change their own switches on their settings page; here a superuser can too."""

    form = NotificationSwitchForm
    list_display = ["team", "kind", "channel", "enabled", "updated_at"]
    list_filter = ["channel", "enabled", "team"]

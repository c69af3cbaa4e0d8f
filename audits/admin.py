"""Admin views of audit data: read-only, since runs are evidence and only the services write them."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from audits.models import AuditRun, CheckResult, ResultUpload


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CheckResultInline(admin.TabularInline):
    model = CheckResult
    fields = ("name", "status", "column", "guarantee", "failing_rows", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditRun)
class AuditRunAdmin(ReadOnlyAdmin):
    list_display = ("asset", "tool", "status", "checked", "passed", "failed", "warned", "errored", "run_at")
    list_filter = ("status", "tool")
    search_fields = ("asset__relation", "run_id", "triggered_by")
    date_hierarchy = "run_at"
    list_select_related = ("asset",)
    raw_id_fields = ("asset", "contract_version", "upload")
    inlines = [CheckResultInline]


@admin.register(ResultUpload)
class ResultUploadAdmin(ReadOnlyAdmin):
    list_display = ("id", "original_name", "format", "status", "actor_label", "created_at", "finished_at")
    list_filter = ("status", "format")
    search_fields = ("original_name", "actor_label", "asset_hint", "sha256")
    raw_id_fields = ("team", "api_key", "user", "sync_run")

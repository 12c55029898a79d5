"""The audit trail and the e-mail log: read-only, scoped like the cases they belong to."""

from __future__ import annotations

from django.contrib import admin

from cases import access
from cases.admin.base import HiddenIsNotFound
from cases.models import AuditEvent, Notification


@admin.register(AuditEvent)
class AuditEventAdmin(HiddenIsNotFound, admin.ModelAdmin):
    # The case by its reference (case_id), not through a join: an erased case's rows keep
    # the reference though the case is gone.
    list_display = ["at", "action", "case_id", "actor", "target", "ip_address"]
    list_filter = ["action"]
    search_fields = ["=case_id"]
    list_select_related = ["actor"]
    show_full_result_count = False

    def get_queryset(self, request):
        return access.staff_audit_events(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(HiddenIsNotFound, admin.ModelAdmin):
    list_display = ["created_at", "kind", "case", "state", "attempts", "last_error"]
    list_filter = ["state", "kind"]
    show_full_result_count = False
    readonly_fields = [f.name for f in Notification._meta.fields]
    list_select_related = ["case"]

    def get_queryset(self, request):
        return access.staff_notifications(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

"""The medical term list translators keep; the summary editor suggests from it."""

from __future__ import annotations

from django.contrib import admin

from cases import access
from cases.admin.base import HiddenIsNotFound
from cases.models import MedicalTerm


@admin.register(MedicalTerm)
class MedicalTermAdmin(HiddenIsNotFound, admin.ModelAdmin):
    list_display = ["en", "zh", "note", "updated_by", "updated_at"]
    search_fields = ["en", "zh"]
    fields = ["en", "zh", "note"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Adding and correcting terms is everyone's; removing one is a manager's call.
        return access.can_reassign(request.user)

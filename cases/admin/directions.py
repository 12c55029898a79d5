"""China medical directions: reference data coordinators keep up to date."""

from __future__ import annotations

from django.contrib import admin

from cases import access
from cases.models import MedicalDirection
from cases.records.completeness import area_completeness_refresh


@admin.register(MedicalDirection)
class MedicalDirectionAdmin(admin.ModelAdmin):
    list_display = ["name_en", "name_zh", "area", "high_risk", "in_area_checklist"]
    list_filter = ["area", "high_risk"]

    def get_queryset(self, request):
        return access.staff_directions(request.user)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The checklist may have changed: open cases of this area count again.
        updated = area_completeness_refresh(obj.area)
        self.message_user(request, f"Record checklists refreshed for {updated} open cases.")

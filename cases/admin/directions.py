"""China medical directions: reference data coordinators keep up to date."""

from __future__ import annotations

from django.contrib import admin

from cases import access
from cases.admin.base import HiddenIsNotFound
from cases.admin.forms import MedicalDirectionForm
from cases.models import MedicalDirection
from cases.tasks import direction_checklist_refresh, enqueue_on_commit


@admin.register(MedicalDirection)
class MedicalDirectionAdmin(HiddenIsNotFound, admin.ModelAdmin):
    # Essential records as checkboxes; a high-risk direction without a caution is refused
    # (MedicalDirection.clean).
    form = MedicalDirectionForm
    list_display = ["name_en", "name_zh", "area", "high_risk", "in_area_checklist"]
    list_filter = ["area", "high_risk"]

    def get_queryset(self, request):
        return access.staff_directions(request.user)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The checklist may have changed: open cases of this area count again. Every open
        # case of the area can be thousands of rows, so a worker does it, not this request.
        enqueue_on_commit(direction_checklist_refresh, obj.area)
        self.message_user(
            request, "Record checklists of the open cases in this area are being refreshed."
        )

"""The read-only tables on a case page: members, consents, history, records, notes."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import F
from django.urls import reverse
from django.utils.html import format_html

from cases.models import (
    CaseDirection,
    CaseEvent,
    Consent,
    InternalNote,
    Membership,
    PartnerCopy,
    Record,
    RecordRequest,
)
from cases.records.redaction.selectors import partner_copy_of


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MembershipInline(ReadOnlyInline):
    model = Membership
    verbose_name_plural = "members and grants"
    readonly_fields = ("user", "role", "can_view_all_records", "created_at", "revoked_at")
    fields = readonly_fields


class ConsentInline(ReadOnlyInline):
    model = Consent
    readonly_fields = (
        "kind",
        "text_version",
        "text_sha256",
        "given_by",
        "authority",
        "given_at",
        "withdrawn_at",
    )
    fields = readonly_fields


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    verbose_name = "status change"
    verbose_name_plural = "status history"
    readonly_fields = ("at", "from_status", "to_status", "actor", "note")
    fields = readonly_fields


class RecordRequestInline(ReadOnlyInline):
    model = RecordRequest
    verbose_name_plural = "record requests"
    readonly_fields = ("created_at", "requested_by", "message", "answered_at")
    fields = readonly_fields


class CaseDirectionInline(ReadOnlyInline):
    model = CaseDirection
    verbose_name_plural = "confirmed China medical directions"
    readonly_fields = (
        "direction",
        "high_risk_caution",
        "rationale",
        "confirmed_by",
        "confirmed_at",
    )
    fields = readonly_fields

    @admin.display(description="Caution")
    def high_risk_caution(self, obj: CaseDirection) -> str:
        return obj.direction.cautions or "—"


class RecordInline(ReadOnlyInline):
    model = Record
    # Numbered as in the case file: by document date, undated last.
    ordering = (F("document_date").asc(nulls_last=True), "created_at")
    readonly_fields = (
        "thumbnail_image",
        "category",
        "document_date",
        "description",
        "original_name",
        "state",
        "rejection_reason",
        "uploaded_by",
        "download",
        "redaction",
    )
    fields = readonly_fields

    @admin.display(description="Partner copy")
    def redaction(self, obj: Record) -> str:
        copy = partner_copy_of(obj)
        if obj.state != Record.State.READY or copy is None:
            return "—"
        url = reverse("admin:cases_case_redaction", args=[obj.case_id, obj.public_id])
        if copy.state in {PartnerCopy.State.QUEUED, PartnerCopy.State.WORKING}:
            label = f"Finding identifiers: page {copy.pages_done} of {copy.page_count or '?'}"
        elif copy.is_current:
            label = "Approved — view"
        elif copy.state == PartnerCopy.State.FAILED:
            label = f"Failed: {copy.last_error}"
        else:
            unread = (
                f" ({copy.unreadable_pages} page(s) to read by eye)"
                if copy.unreadable_pages
                else ""
            )
            label = f"Review the boxes{unread}"
        return format_html('<a href="{}">{}</a>', url, label)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by", "partner_copy")

    # Not called "preview": the model's own ``Record.preview`` field would win the admin's
    # lookup and the thumbnail would never show.
    @admin.display(description="")
    def thumbnail_image(self, obj: Record) -> str:
        if obj.state != Record.State.READY or not obj.thumbnail:
            return "—"
        url = reverse("admin:cases_case_record", args=[obj.case_id, obj.public_id, "thumbnail"])
        return format_html(
            '<a href="{}"><img src="{}" alt="First page of the {}" class="record-thumb" '
            'width="56" loading="lazy"></a>',
            reverse("admin:cases_case_record", args=[obj.case_id, obj.public_id, "file"]),
            url,
            obj.get_category_display().lower(),
        )

    @admin.display(description="File")
    def download(self, obj: Record) -> str:
        if obj.state != Record.State.READY:
            return "—"
        url = reverse("admin:cases_case_record", args=[obj.case_id, obj.public_id, "file"])
        return format_html('<a href="{}">Download</a>', url)


class InternalNoteInline(admin.StackedInline):
    model = InternalNote
    extra = 1
    can_delete = False
    verbose_name_plural = "internal notes (never shown to the patient)"
    fields = ["text", "author", "created_at"]
    readonly_fields = ("author", "created_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

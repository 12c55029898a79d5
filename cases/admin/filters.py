"""The queue's filters: whose cases, and which need attention."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from cases.domain.workflow import FINAL, Status

DEADLINE_SOON = timedelta(days=14)
OVERDUE_AFTER = timedelta(days=10)


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned to"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        staff = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
        return [
            ("me", "Me"),
            ("none", "Nobody"),
            ("all", "Anyone"),
            *[(str(u.pk), u.get_full_name() or u.username) for u in staff],
        ]

    def choices(self, changelist):
        # No "All" entry of our own: "Anyone" is explicit, and "Me" is the default.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assigned_coordinator=request.user)
        if value == "none":
            return queryset.filter(assigned_coordinator__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assigned_coordinator_id=int(value))
        return queryset


class OpenFilter(admin.SimpleListFilter):
    """Open cases unless asked otherwise: closed, withdrawn and declined ones are done."""

    title = "open or final"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("final", "Closed, withdrawn or declined"), ("any", "Any")]

    def choices(self, changelist):
        current = self.value() or "open"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == "any" or (value is None and "status__exact" in request.GET):
            return queryset  # someone asking for a status gets it, final or not
        if value == "final":
            return queryset.filter(status__in=FINAL)
        return queryset.exclude(status__in=FINAL)


class OverdueFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [
            ("overdue", "Overdue or deadline within 14 days"),
            ("incomplete", "Missing essential records"),
            ("needs_update", "Chinese needs update"),
            ("erasure", "Erasure requested"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.exclude(status__in=FINAL).filter(
                Q(decision_deadline__lte=today + DEADLINE_SOON)
                | Q(
                    status__in=[Status.SUBMITTED, Status.TRIAGE],
                    submitted_at__lte=timezone.now() - OVERDUE_AFTER,
                )
            )
        if self.value() == "incomplete":
            return queryset.exclude(status__in=FINAL).filter(essentials_missing__gt=0)
        if self.value() == "needs_update":
            return queryset.filter(chinese_needs_update=True)
        if self.value() == "erasure":
            return queryset.filter(erasure_request__isnull=False)
        return queryset

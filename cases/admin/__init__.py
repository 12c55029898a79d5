"""The coordinator workspace: the Django admin, made for triage, not table editing.

One module per area; importing them registers their ``ModelAdmin`` classes. Every
queryset comes from ``cases.access``; custom pages only call services.
"""

from django.contrib import admin

from cases.admin import audit, case, directions, summary

admin.site.site_header = "medChina Intake — coordinator workspace"
admin.site.site_title = "medChina Intake"
admin.site.index_title = "Workspace"

__all__ = ["audit", "case", "directions", "summary"]

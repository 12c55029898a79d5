"""The coordinator workspace: the Django admin, made for triage, not table editing.

One module per area; importing them registers their ``ModelAdmin`` classes. Every
queryset comes from ``cases.access``; custom pages only call services.
"""

from django.contrib import admin

from cases.admin import audit, case, directions, summary, terms

admin.site.site_header = "medChina Intake — coordinator workspace"
admin.site.site_title = "medChina Intake"
admin.site.index_title = "Workspace"
# The queue needs the width: the app list is one click away under "Workspace".
admin.site.enable_nav_sidebar = False

__all__ = ["audit", "case", "directions", "summary", "terms"]

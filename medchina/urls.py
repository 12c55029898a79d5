from django.contrib import admin
from django.urls import include, path

from medchina import health, middleware
from medchina.admin_site import WorkspaceAdminSite

# Staff sign in with a password and a code from their authenticator app.
admin.site.__class__ = WorkspaceAdminSite

urlpatterns = [
    path("healthz/", health.healthz, name="healthz"),
    # nginx answers a body over client_max_body_size with this page (error_page 413).
    path("errors/upload-too-large/", middleware.upload_too_large, name="upload_too_large"),
    path("admin/", admin.site.urls),
    path("", include("intake.urls")),
]

handler400 = "intake.views.bad_request"
handler403 = "intake.views.permission_denied"
handler404 = "intake.views.page_not_found"
handler500 = "intake.views.server_error"

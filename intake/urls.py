from django.urls import path

from intake import confirmation_views, messages_views, privacy_views, records_views, views

app_name = "intake"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("privacy/", views.privacy, name="privacy"),
    path("contact/", views.contact, name="contact"),
    path("guidance/", views.guidance_page, name="guidance"),
    path("start/", views.safety_check, name="start"),
    path("start/urgent/", views.urgent, name="urgent"),
    path("start/check-your-answers/", views.enquiry_review, name="review"),
    path("start/send/", views.enquiry_submit, name="submit"),
    path("start/sent/", views.enquiry_submitted, name="submitted"),
    path("start/new/", views.enquiry_restart, name="restart"),
    path("start/<slug:slug>/", views.enquiry_step, name="step"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/sent/", views.sign_in_sent, name="sign_in_sent"),
    path("sign-in/link/", views.sign_in_link, name="sign_in_link"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path(
        "confirm/<str:ref>/",
        confirmation_views.patient_confirmation,
        name="patient_confirmation",
    ),
    path("my/", views.portal, name="portal"),
    path("my/cases/<str:ref>/", views.case_detail, name="case"),
    path("my/cases/<str:ref>/preparation/", views.case_preparation, name="case_preparation"),
    path("my/cases/<str:ref>/withdraw/", views.case_withdraw, name="case_withdraw"),
    path("my/cases/<str:ref>/records/", records_views.case_records, name="case_records"),
    path(
        "my/cases/<str:ref>/records/uploads/",
        records_views.upload_create,
        name="upload_create",
    ),
    path(
        "my/cases/<str:ref>/records/uploads/<uuid:public_id>/",
        records_views.upload_chunk,
        name="upload_chunk",
    ),
    path(
        "my/cases/<str:ref>/records/status/",
        records_views.case_records_status,
        name="case_records_status",
    ),
    path(
        "my/cases/<str:ref>/records/<uuid:public_id>/file/",
        records_views.record_download,
        name="record_download",
    ),
    path(
        "my/cases/<str:ref>/records/<uuid:public_id>/thumbnail/",
        records_views.record_thumbnail,
        name="record_thumbnail",
    ),
    path("my/cases/<str:ref>/family/", records_views.case_family, name="case_family"),
    path("my/cases/<str:ref>/sharing/", records_views.case_sharing, name="case_sharing"),
    path(
        "my/cases/<str:ref>/case-file/<uuid:public_id>/",
        records_views.case_file_download,
        name="case_file_download",
    ),
    path(
        "my/cases/<str:ref>/family/change/",
        records_views.case_family_change,
        name="case_family_change",
    ),
    path(
        "my/cases/<str:ref>/records/<uuid:public_id>/delete/",
        privacy_views.record_delete,
        name="record_delete",
    ),
    path(
        "my/cases/<str:ref>/records/<uuid:public_id>/replace/",
        privacy_views.record_replace,
        name="record_replace",
    ),
    path("my/cases/<str:ref>/messages/", messages_views.case_messages, name="case_messages"),
    path("my/cases/<str:ref>/data/", privacy_views.case_data, name="case_data"),
    path(
        "my/cases/<str:ref>/data/export/", privacy_views.case_data_export, name="case_data_export"
    ),
    path(
        "my/cases/<str:ref>/data/<uuid:public_id>/",
        privacy_views.case_data_download,
        name="case_data_download",
    ),
    path("my/cases/<str:ref>/erasure/", privacy_views.case_erasure, name="case_erasure"),
    path(
        "invitations/<uuid:public_id>/",
        records_views.invitation_accept,
        name="invitation_accept",
    ),
]

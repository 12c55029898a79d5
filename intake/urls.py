from django.urls import path

from intake import views

app_name = "intake"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("privacy/", views.privacy, name="privacy"),
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
    path("my/", views.portal, name="portal"),
    path("my/cases/<str:ref>/", views.case_detail, name="case"),
    path("my/cases/<str:ref>/preparation/", views.case_preparation, name="case_preparation"),
    path("my/cases/<str:ref>/withdraw/", views.case_withdraw, name="case_withdraw"),
]

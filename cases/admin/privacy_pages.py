"""The case page's privacy pages: the message thread and the confirmation of an erasure.
Each parses the form, calls one service and responds."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from cases import access
from cases.admin.case_pages import CasePagesMixin
from cases.admin.forms import StaffMessageForm
from cases.messaging import services as messaging
from cases.models import ErasureRequest, RecordCategory
from cases.privacy import erasure
from cases.records.files import files_under


class PrivacyPagesMixin(CasePagesMixin):
    """Messages and erasure, on top of the other workspace pages."""

    def get_urls(self):
        view = self.case_page_url
        return [
            view(self.messages_view, "messages", "messages/"),
            view(self.erasure_view, "erasure", "erasure/"),
            *super().get_urls(),
        ]

    def messages_view(self, request: HttpRequest, object_id: str):
        # Coordinators (change permission on the case) only: a translator sees nothing of a
        # case but the Chinese side of its summary.
        case = self._case(request, object_id)
        form = StaffMessageForm(request.POST or None, request.FILES or None)
        if request.method == "POST":
            if form.is_valid():
                try:
                    _message, results = messaging.message_send(
                        case=case,
                        author=request.user,
                        body=form.cleaned_data["body"],
                        files=form.cleaned_data["attachments"] or [],
                        category=form.cleaned_data["category"] or RecordCategory.OTHER,
                        request=request,
                    )
                except ValidationError as refused:
                    form.add_error("body", refused)
                else:
                    for result in results:
                        if result.record is None:
                            self.message_user(request, result.message, messages.ERROR)
                    self.message_user(request, "Your message has been sent.")
                    return HttpResponseRedirect(request.path)
        else:
            self._audit_view(request, object_id, "messages")
        read_before = messaging.last_read(case=case, user=request.user)
        thread = messaging.thread_for_reader(case, request.user)
        for message in thread:
            message.is_new = not message.from_staff and (  # type: ignore[attr-defined]
                read_before is None or message.created_at > read_before
            )
        messaging.thread_mark_read(case=case, user=request.user)
        readers = ", ".join(
            m.user.email for m in access.message_readers(case) if not m.manages_case
        )
        return self._page(
            request, case, "messages.html", "Messages", thread=thread, form=form, readers=readers
        )

    def erasure_view(self, request: HttpRequest, object_id: str):
        case = self._case(request, object_id)
        if not access.may_confirm_erasure(request.user, case):
            raise PermissionDenied
        erasure_request = ErasureRequest.objects.filter(case=case).first()
        shared = erasure.case_was_shared(case)
        if request.method == "POST":
            if not request.POST.get("confirm"):
                self.message_user(request, "Tick the box to confirm the erasure.", messages.ERROR)
                return HttpResponseRedirect(request.path)
            try:
                erased = erasure.erasure_confirm(case=case, by=request.user, request=request)
            except ValidationError as refused:
                self.message_user(request, refused.messages[0], messages.ERROR)
                return HttpResponseRedirect(request.path)
            self.message_user(
                request,
                f"{erased.reference} is erased: {len(erased.files)} stored files and every "
                "row about it were deleted.",
            )
            if erased.was_shared:
                self.message_user(
                    request,
                    f"{erased.reference} had been shared with a partner: notify the partner "
                    "in writing to delete their copy, and keep their confirmation.",
                    messages.WARNING,
                )
            return HttpResponseRedirect(reverse("admin:cases_case_changelist") + "?assigned=me")
        files = len(files_under([case]))
        return self._page(
            request,
            case,
            "erasure.html",
            "Erase this case",
            erasure_request=erasure_request,
            shared=shared,
            counts={
                "records": case.records.count(),
                "case_files": case.case_files.count(),
                "messages": case.messages.count(),
                "files": files,
            },
        )

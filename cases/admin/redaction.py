"""The coordinator's redaction review: a record's pages with the proposed boxes, page by page.

Works without JavaScript: boxes are drawn with CSS over the page picture, each box has a
"keep" checkbox, and detected words can be chosen from a list to add a box (the keyboard
way). ``static/js/redaction.js`` adds drawing a box with the mouse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from cases import access
from cases.models import AuditEvent, PartnerCopy, RedactionPage
from cases.records.redaction import services as redaction
from cases.serving import private_file_response
from medchina.http import AuthenticatedHttpRequest

if TYPE_CHECKING:
    from django.template.response import TemplateResponse

    from cases.models import Case


REPLACE_BOXES = "Replace my boxes on every page of this record"
NOT_REPLACED = f"Nothing was changed. To read the pages again, tick “{REPLACE_BOXES}”."


def _boxes_from_post(request: HttpRequest, page: RedactionPage) -> list[dict]:
    """The boxes the coordinator kept, the words they chose and the boxes they drew."""
    boxes: list[dict] = []
    kept = set(request.POST.getlist("keep"))
    for index, box in enumerate(page.boxes):
        if str(index) in kept:
            boxes.append(box)
    words = page.words
    for value in request.POST.getlist("word"):
        try:
            word = words[int(value)]
        except (ValueError, IndexError):
            continue
        boxes.append(
            {
                "box": word["box"],
                "kind": "chosen word",
                "text": word["text"],
                "source": "coordinator",
            }
        )
    for value in request.POST.getlist("drawn"):
        try:
            left, top, right, bottom = (int(float(v)) for v in value.split(","))
        except ValueError:
            continue
        boxes.append(
            {"box": [left, top, right, bottom], "kind": "drawn by hand", "source": "coordinator"}
        )
    return boxes


class RedactionPagesMixin(admin.ModelAdmin):
    """Views mixed into ``CaseAdmin``; every one starts from ``access.staff_cases``."""

    if TYPE_CHECKING:  # provided by CasePagesMixin, which builds on this class

        def _case(self, request: HttpRequest, object_id: str, *, change: bool = True) -> Case: ...

        def _page(
            self, request: HttpRequest, case: Case, template: str, title: str, **context: Any
        ) -> TemplateResponse: ...

        def _audit_view(self, request: HttpRequest, object_id: str, page: str) -> None: ...

    def redaction_view(self, request: AuthenticatedHttpRequest, object_id: str, public_id):
        case = self._case(request, object_id)
        if not access.can_review_redaction(request.user):
            raise PermissionDenied
        record = access.staff_record(case, public_id)
        copy = access.staff_partner_copy(case, public_id)
        try:
            number = max(1, int(request.GET.get("page", "1")))
        except ValueError:
            number = 1
        here = reverse("admin:cases_case_redaction", args=[case.pk, record.public_id])
        if request.method == "POST":
            action = request.POST.get("action", "")
            try:
                if action == "save-page":
                    page = access.staff_redaction_page(copy, int(request.POST.get("page", "0")))
                    redaction.page_review(
                        page=page,
                        boxes=_boxes_from_post(request, page),
                        no_identifiers=request.POST.get("no_identifiers") == "on",
                        by=request.user,
                    )
                    if request.POST.get("then") == "approve":
                        # The last page to review: saved and the copy approved in one step.
                        copy.refresh_from_db()
                        redaction.partner_copy_approve(partner_copy=copy, by=request.user)
                        self.message_user(
                            request,
                            f"Page {page.number} saved; the partner copy of this record is "
                            "approved.",
                        )
                        return HttpResponseRedirect(
                            reverse("admin:cases_case_change", args=[case.pk])
                        )
                    following = copy.pages.filter(number__gt=page.number, reviewed=False).first()
                    self.message_user(request, f"Page {page.number} saved.")
                    target = following.number if following else page.number
                    return HttpResponseRedirect(f"{here}?page={target}")
                if action == "approve":
                    redaction.partner_copy_approve(partner_copy=copy, by=request.user)
                    self.message_user(request, "The partner copy of this record is approved.")
                    return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
                if action == "propose-again":
                    # One click used to throw away hand-drawn boxes and the approval.
                    if request.POST.get("replace_boxes") != "on":
                        self.message_user(request, NOT_REPLACED, messages.ERROR)
                        return HttpResponseRedirect(f"{here}?page={number}")
                    copy.source_sha256 = ""
                    copy.save(update_fields=["source_sha256"])
                    redaction.partner_copy_request(record=record)
                    self.message_user(request, "The pages are being read again.")
            except ValidationError as refused:
                self.message_user(request, " ".join(refused.messages), messages.ERROR)
            except ValueError:
                self.message_user(request, "That page was not understood.", messages.ERROR)
            return HttpResponseRedirect(f"{here}?page={number}")
        self._audit_view(request, object_id, f"redaction:{record.public_id}")
        page_rows = list(copy.pages.all())
        shown = next((p for p in page_rows if p.number == number), None)
        boxes = []
        if shown is not None:
            for index, box in enumerate(shown.boxes):
                left, top, right, bottom = box["box"]
                boxes.append(
                    {
                        "index": index,
                        "kind": box.get("kind", ""),
                        "text": box.get("text", ""),
                        "source": box.get("source", ""),
                        **_percent(shown, left, top, right, bottom),
                    }
                )
        return self._page(
            request,
            case,
            "redaction.html",
            f"Redaction: {record.get_category_display()}",
            record=record,
            copy=copy,
            working=copy.state in {PartnerCopy.State.QUEUED, PartnerCopy.State.WORKING},
            pages=page_rows,
            page=shown,
            boxes=boxes,
            words=list(enumerate(shown.words)) if shown else [],
            all_reviewed=bool(page_rows) and all(p.reviewed for p in page_rows),
            # Every other page reviewed: this page's save can approve the copy too.
            last_to_review=shown is not None
            and all(p.reviewed for p in page_rows if p.number != shown.number),
            replace_boxes=REPLACE_BOXES,
            previous=number - 1 if number > 1 else None,
            following=number + 1 if number < len(page_rows) else None,
        )

    def redaction_picture(
        self, request: AuthenticatedHttpRequest, object_id: str, public_id, number: int
    ):
        case = self._case(request, object_id, change=False)
        if not access.can_review_redaction(request.user):
            raise PermissionDenied
        copy = access.staff_partner_copy(case, public_id)
        page = access.staff_redaction_page(copy, number)
        return private_file_response(
            stored=page.picture,
            request=request,
            case=case,
            action=AuditEvent.Action.RECORD_VIEWED,
            target=str(copy.record.public_id),
            content_type="image/jpeg",
            filename="",
        )


def _percent(page: RedactionPage, left: int, top: int, right: int, bottom: int) -> dict:
    """A box's place as percentages of the picture, so it scales with the picture."""
    return {
        "left": round(100 * left / page.width, 3),
        "top": round(100 * top / page.height, 3),
        "width": round(100 * (right - left) / page.width, 3),
        "height": round(100 * (bottom - top) / page.height, 3),
    }

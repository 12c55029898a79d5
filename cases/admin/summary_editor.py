"""The side-by-side summary editor: English left, Chinese right, every section in one
form, saved together or one at a time without losing what was typed in the others."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse

from cases import access
from cases.admin.forms import SectionForm
from cases.audit import audit_log
from cases.domain import glossary
from cases.models import AuditEvent, Case, Record, SummarySection, TextState
from cases.summary import services as summary
from cases.summary.translation import Suggester
from medchina.http import AuthenticatedHttpRequest


class SummaryEditorMixin(admin.ModelAdmin):
    """``summary_view`` of ``CaseAdmin``; the helpers it calls live on ``CasePagesMixin``."""

    if TYPE_CHECKING:

        def _page(
            self, request: HttpRequest, case: Case, template: str, title: str, **context: Any
        ) -> TemplateResponse: ...

    def summary_view(self, request: AuthenticatedHttpRequest, object_id: str):
        case = access.staff_case_for_summary(request.user, object_id)
        if request.method == "GET":
            audit_log(
                action=AuditEvent.Action.CASE_VIEWED,
                actor=request.user,
                case=case,
                target="summary",
                request=request,
            )
        if request.method == "POST" and request.POST.get("action") == "draft":
            if not access.can_edit_english(request.user):
                raise PermissionDenied
            summary.summary_draft(case=case, by=request.user, request=request)
            self.message_user(request, "Sections not yet started were drafted. Please check them.")
            return HttpResponseRedirect(request.get_full_path())
        sections = sorted(case.summary_sections.select_related("updated_by"), key=lambda s: s.order)
        stale: dict[str, SummarySection] = {}
        errors: dict[str, list[str]] = {}
        forms_by_key: dict[str, SectionForm] = {}
        which = request.POST.get("save", "") if request.method == "POST" else ""
        if which:
            # Every section's boxes are posted, so nothing typed anywhere is lost: the ones
            # not being saved come back as they were typed.
            forms_by_key = {
                s.key: SectionForm(request.POST, section=s, user=request.user) for s in sections
            }
            chosen = [s for s in sections if which in {"all", s.key}]
            if not chosen:
                raise Http404("No such section")
            for section in chosen:
                form = forms_by_key[section.key]
                if form.english_denied:
                    errors[section.key] = ["You can edit only the Chinese text of a summary."]
                elif not form.is_valid():
                    errors[section.key] = [str(e) for es in form.errors.values() for e in es]
            if not errors:
                edits = {s: forms_by_key[s.key].edit() for s in chosen}
                try:
                    if which == "all":
                        summary.summary_sections_save(edits=edits, by=request.user, request=request)
                    else:
                        (section,) = chosen
                        summary.summary_section_save(
                            section=section, edit=edits[section], by=request.user, request=request
                        )
                except summary.StaleEdits as conflict:
                    stale = conflict.current
                except summary.StaleEdit as conflict:
                    stale = {conflict.current.key: conflict.current}
                except (PermissionDenied, ValidationError) as refused:
                    text = (
                        refused.messages[0]
                        if isinstance(refused, ValidationError)
                        else str(refused)
                    )
                    for section in chosen:
                        errors[section.key] = [text]
                else:
                    if which == "all":
                        self.message_user(request, "All sections saved.")
                        return HttpResponseRedirect(request.get_full_path())
                    self.message_user(request, f"{chosen[0].get_key_display()} saved.")
                    # Fresh from the database; the others keep what was typed in them.
                    fresh = SummarySection.objects.get(pk=chosen[0].pk)
                    sections = [fresh if s.pk == fresh.pk else s for s in sections]
                    forms_by_key[fresh.key] = SectionForm(section=fresh, user=request.user)
            if stale:
                self.message_user(
                    request,
                    "Someone else saved a section while you were editing, so nothing was "
                    "saved. Your text is still in the boxes; their version is shown beside it.",
                    messages.ERROR,
                )
            elif errors:
                self.message_user(
                    request, "Nothing was saved: see the notes below.", messages.ERROR
                )
        suggester = Suggester() if access.can_edit_chinese(request.user) else None
        rows = []
        for section in sections:
            form = forms_by_key.get(section.key) or SectionForm(section=section, user=request.user)
            if section.key in stale:
                # Saving again replaces their version knowingly: base it on what they saved.
                # A copy of the QueryDict (unpacking it with ** turned every value into a
                # list, and saving again stored "['…']").
                data = QueryDict(mutable=True)
                data.update(form.data)
                data[f"{section.key}-base_version"] = str(stale[section.key].version)
                form.data = data
            rows.append(
                {
                    "section": section,
                    "form": form,
                    "heading_zh": glossary.SECTIONS[section.key],
                    "stale": stale.get(section.key),
                    "errors": errors.get(section.key, []),
                    "unsaved": form.unsaved(),
                    "suggestions": suggester.for_text(section.text_en) if suggester else [],
                }
            )
        done = sum(
            1
            for s in sections
            if s.not_needed_reason
            or (s.state_en == TextState.REVIEWED and s.state_zh == TextState.REVIEWED)
        )
        return self._page(
            request,
            case,
            "summary.html",
            "Case summary",
            rows=rows,
            done_count=done,
            glossary=glossary.ALL,
            can_draft=access.can_edit_english(request.user),
            record_rows=self._records_beside(case),
        )

    def _records_beside(self, case: Case) -> list[Record]:
        return list(
            case.records.provided()
            .ready()
            .order_by(F("document_date").asc(nulls_last=True), "created_at")
        )

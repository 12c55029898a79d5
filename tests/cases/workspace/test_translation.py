"""Translation that stays true: needs update, the side-by-side editor, translators' limits."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from cases.domain.workflow import Status
from cases.models import SummarySection, TextState
from cases.summary import services as summary
from tests.factories import patient_case, staff_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator():
    return staff_in("coordinator", username="coord")


@pytest.fixture
def translator():
    return staff_in("translator", username="trans")


def _section(case, key="background", **fields) -> SummarySection:
    defaults = dict(
        text_en="12 of 14 cycles",
        text_zh="14个周期中的12个",
        state_en=TextState.REVIEWED,
        state_zh=TextState.REVIEWED,
    )
    return SummarySection.objects.create(case=case, key=key, **{**defaults, **fields})


def _edit(section, **changes) -> summary.SectionEdit:
    values = dict(
        text_en=section.text_en,
        state_en=section.state_en,
        text_zh=section.text_zh,
        state_zh=section.state_zh,
        base_version=section.version,
    )
    return summary.SectionEdit(**{**values, **changes})


def test_reviewed_chinese_needs_an_update_when_the_english_changes(coordinator):
    case, _ = patient_case(status=Status.DRAFTING)
    section = _section(case)

    saved = summary.summary_section_save(
        section=section, edit=_edit(section, text_en="13 of 14 cycles"), by=coordinator
    )

    assert saved.state_zh == TextState.NEEDS_UPDATE
    assert saved.text_zh == "14个周期中的12个"  # kept for the translator to correct


def test_a_state_change_of_the_english_alone_leaves_the_chinese_reviewed(coordinator):
    case, _ = patient_case(status=Status.DRAFTING)
    section = _section(case, state_en=TextState.DRAFT)

    saved = summary.summary_section_save(
        section=section, edit=_edit(section, state_en=TextState.REVIEWED), by=coordinator
    )

    assert saved.state_zh == TextState.REVIEWED


def test_the_translator_clears_needs_update_by_reviewing_again(coordinator, translator):
    case, _ = patient_case(status=Status.DRAFTING)
    section = _section(case)
    section = summary.summary_section_save(
        section=section, edit=_edit(section, text_en="13 of 14 cycles"), by=coordinator
    )

    saved = summary.summary_section_save(
        section=section,
        edit=_edit(section, text_zh="14个周期中的13个", state_zh=TextState.REVIEWED),
        by=translator,
    )

    assert (saved.text_zh, saved.state_zh) == ("14个周期中的13个", TextState.REVIEWED)


def test_a_translator_editing_the_english_is_denied_and_nothing_is_saved(translator):
    case, _ = patient_case(status=Status.DRAFTING)
    section = _section(case)

    with pytest.raises(PermissionDenied):
        summary.summary_section_save(
            section=section,
            edit=_edit(section, text_en="changed", text_zh="改了"),
            by=translator,
        )

    section.refresh_from_db()
    assert (section.text_en, section.text_zh) == ("12 of 14 cycles", "14个周期中的12个")


def test_a_translator_cannot_mark_a_section_not_needed(translator):
    case, _ = patient_case(status=Status.DRAFTING)
    section = _section(case)
    with pytest.raises(PermissionDenied):
        summary.summary_section_save(
            section=section, edit=_edit(section, not_needed_reason="no"), by=translator
        )


# --- The side-by-side editor ------------------------------------------------------------------


def _form(sections, **overrides) -> dict:
    data: dict[str, object] = {}
    for s in sections:
        data |= {
            f"{s.key}-base_version": s.version,
            f"{s.key}-text_en": s.text_en,
            f"{s.key}-state_en": s.state_en,
            f"{s.key}-text_zh": s.text_zh,
            f"{s.key}-state_zh": s.state_zh,
            f"{s.key}-not_needed_reason": s.not_needed_reason,
        }
    return data | overrides


def test_saving_one_section_keeps_unsaved_edits_in_the_others(coordinator, staff_login):
    case, _ = patient_case(status=Status.DRAFTING, assigned_coordinator=coordinator)
    background = _section(case, "background", state_zh=TextState.DRAFT)
    concern = _section(case, "current_concern", text_en="Worried", state_zh=TextState.DRAFT)
    client = staff_login(coordinator)

    response = client.post(
        f"/admin/cases/case/{case.pk}/summary/",
        _form(
            [background, concern],
            **{
                "save": "background",
                "background-text_en": "Background, edited",
                "current_concern-text_en": "Concern typed but not saved yet",
            },
        ),
    )

    assert response.status_code == 200
    assert "Concern typed but not saved yet" in response.text
    background.refresh_from_db()
    concern.refresh_from_db()
    assert background.text_en == "Background, edited"
    assert concern.text_en == "Worried"


def test_save_all_saves_every_changed_section_together(coordinator, staff_login):
    case, _ = patient_case(status=Status.DRAFTING, assigned_coordinator=coordinator)
    background = _section(case, "background", state_zh=TextState.DRAFT)
    concern = _section(case, "current_concern", text_en="Worried", state_zh=TextState.DRAFT)

    staff_login(coordinator).post(
        f"/admin/cases/case/{case.pk}/summary/",
        _form(
            [background, concern],
            **{
                "save": "all",
                "background-text_en": "Background, edited",
                "current_concern-text_en": "Concern, edited",
            },
        ),
    )

    background.refresh_from_db()
    concern.refresh_from_db()
    assert (background.text_en, concern.text_en) == ("Background, edited", "Concern, edited")


def test_save_all_saves_nothing_when_one_section_was_changed_by_someone_else(
    coordinator, staff_login
):
    case, _ = patient_case(status=Status.DRAFTING, assigned_coordinator=coordinator)
    background = _section(case, "background", state_zh=TextState.DRAFT)
    concern = _section(case, "current_concern", text_en="Worried", state_zh=TextState.DRAFT)
    form = _form(
        [background, concern],
        **{
            "save": "all",
            "background-text_en": "Mine",
            "current_concern-text_en": "Mine too",
        },
    )
    SummarySection.objects.filter(pk=concern.pk).update(text_en="Theirs", version=5)

    response = staff_login(coordinator).post(f"/admin/cases/case/{case.pk}/summary/", form)

    assert "Mine too" in response.text and "Theirs" in response.text
    background.refresh_from_db()
    assert background.text_en == "12 of 14 cycles"


def test_after_an_edit_clash_the_boxes_hold_the_text_as_typed_and_saving_again_keeps_it(
    coordinator, staff_login
):
    # The boxes once came back as "['Mine too']" (the form data unpacked into lists) and
    # saving again, as the page says to, stored that.
    case, _ = patient_case(status=Status.DRAFTING, assigned_coordinator=coordinator)
    concern = _section(case, "current_concern", text_en="Worried", state_zh=TextState.DRAFT)
    typed = "Line one\r\nLine two"
    form = _form([concern], **{"save": "all", "current_concern-text_en": typed})
    SummarySection.objects.filter(pk=concern.pk).update(text_en="Theirs", version=5)
    client = staff_login(coordinator)

    clash = client.post(f"/admin/cases/case/{case.pk}/summary/", form)
    rows = {row["section"].key: row for row in clash.context["rows"]}
    again = rows["current_concern"]["form"].data

    assert "[" not in clash.text.split("current_concern-text_en")[1].split("</textarea>")[0]
    assert again["current_concern-text_en"] == typed
    assert again["current_concern-base_version"] == "5"
    client.post(f"/admin/cases/case/{case.pk}/summary/", again)
    concern.refresh_from_db()
    assert concern.text_en == typed and concern.version == 6


def test_the_editor_shows_english_beside_chinese_and_needs_update(coordinator, staff_login):
    case, _ = patient_case(status=Status.DRAFTING, assigned_coordinator=coordinator)
    _section(case, "background", state_zh=TextState.NEEDS_UPDATE)

    page = staff_login(coordinator).get(f"/admin/cases/case/{case.pk}/summary/")

    assert 'class="side-by-side"' in page.text
    assert "Needs update" in page.text


def test_a_translator_posting_english_in_the_editor_is_denied(translator, staff_login):
    case, _ = patient_case(status=Status.DRAFTING)
    background = _section(case, "background", state_zh=TextState.DRAFT)

    response = staff_login(translator).post(
        f"/admin/cases/case/{case.pk}/summary/",
        _form([background], **{"save": "all", "background-text_en": "Rewritten"}),
    )

    assert response.status_code in {200, 403}
    background.refresh_from_db()
    assert background.text_en == "12 of 14 cycles"

"""The identifier detector: the case's own identity in every spelling, and generic patterns."""

from __future__ import annotations

from datetime import date

import pytest

from cases.domain.identifiers import Identity, Word, find, find_in_words, nhs_number_valid

HOPE = Identity(
    names=("Mark Hope", "Anne-Marie O'Neill", "王小明"),
    date_of_birth=date(1961, 4, 3),
    nhs_number="943 476 5919",
    postcodes=("SW1A 1AA",),
    phones=("07700 900123",),
    emails=("mark.hope@example.org",),
    address_lines=("12 Acacia Avenue",),
    providers=("Royal Marsden NHS Foundation Trust",),
    clinicians=("Dr Priya Shah",),
)


def own(text: str) -> list[str]:
    return [hit.text for hit in find(text, HOPE) if hit.identity]


@pytest.mark.parametrize(
    "written",
    [
        "03.04.1961",
        "3/4/61",
        "April 3, 1961",
        "3rd April 1961",
        "1961-04-03",
        "3 Apr 1961",
        "03/04/1961",
        "3-Apr-61",
        "1961年4月3日",
        "April 3rd 1961",
    ],
)
def test_it_finds_the_date_of_birth_in_every_common_form(written):
    assert own(f"Seen today. {written} is recorded.") == [written]


@pytest.mark.parametrize(
    "written", ["943.476.5919", "9434 765 919", "943 476 5919", "9434765919", "943-476-5919"]
)
def test_it_finds_the_nhs_number_however_it_is_broken_up(written):
    assert own(f"NHS No {written}.") == [written]


@pytest.mark.parametrize(
    "written",
    ["+44 7700 900123", "+447700900123", "07700 900123", "07700900123", "0044 7700 900 123"],
)
def test_it_finds_the_phone_in_national_and_international_forms(written):
    assert own(f"Call {written} today") == [written]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dear Mr Hope,", ["Mr Hope"]),
        ("Mark Hope's scan", ["Mark Hope's"]),
        ("HOPE, Mark", ["HOPE, Mark"]),
        ("M. Hope attended", ["M. Hope"]),
        ("with Anne-Marie today", ["Anne-Marie"]),
        ("Ms O'Neill's daughter", ["Ms O'Neill's"]),
        ("Ms O’Neill rang", ["Ms O’Neill"]),
        ("患者王小明女士", ["王小明"]),
        ("王 小 明", ["王 小 明"]),
    ],
)
def test_it_finds_names_with_titles_initials_possessives_and_chinese_forms(text, expected):
    assert own(text) == expected


def test_a_name_that_is_also_a_common_word_is_a_name_only_when_used_as_one():
    assert own("We hope to mark the date. Hope is important.") == []
    assert own("We hope Mr Hope will come.") == ["Mr Hope"]


def test_it_finds_the_postcode_email_address_provider_and_clinician():
    text = (
        "12 Acacia Avenue, London SW1A1AA. mark.hope@example.org. "
        "Seen at The Royal Marsden Hospital by Dr P. Shah."
    )
    assert own(text) == [
        "12 Acacia Avenue",
        "SW1A1AA",
        "mark.hope@example.org",
        "The Royal Marsden Hospital",
        "Dr P. Shah",
    ]


def test_generic_patterns_catch_other_peoples_identifiers():
    nobody = Identity()
    hits = {
        (hit.kind, hit.text)
        for hit in find(
            "MRN RXH1234567. NHS 401 023 2137. Born: 12/05/1950. Dr James Wilson. "
            "The Leeds General Infirmary. Tel 0113 243 3144. LS1 3EX",
            nobody,
        )
    }
    assert {
        ("hospital number", "RXH1234567"),
        ("NHS number", "401 023 2137"),
        ("date of birth", "12/05/1950"),
        ("person's name", "Dr James Wilson"),
        ("provider", "The Leeds General Infirmary"),
        ("phone number", "0113 243 3144"),
        ("postcode", "LS1 3EX"),
    } <= hits
    assert not any(hit.identity for hit in find("Dr James Wilson", nobody))


def test_ten_digits_that_fail_the_nhs_check_are_not_an_nhs_number():
    assert nhs_number_valid("9434765919")
    assert not nhs_number_valid("9434765918")
    assert not any(h.kind == "NHS number" for h in find("Ref 123 456 7890", Identity()))


def test_clinical_text_is_left_alone():
    text = "HER2 positive (IHC 3+), ER 8/8. Tumour 24 mm. Four cycles of docetaxel in 2023."
    assert find(text, HOPE) == []


def test_words_on_a_page_map_back_to_their_boxes():
    words = [
        Word("Patient:", (0, 0, 80, 20), 0),
        Word("Mr", (90, 0, 110, 20), 0),
        Word("Mark", (115, 0, 160, 20), 0),
        Word("Hope", (165, 0, 210, 20), 0),
        Word("NHS", (0, 30, 40, 50), 1),
        Word("943", (50, 30, 80, 50), 1),
        Word("476", (85, 30, 115, 50), 1),
        Word("5919", (120, 30, 160, 50), 1),
    ]
    hits = find_in_words(words, HOPE)
    assert [(hit.kind, hit.words) for hit in hits] == [
        ("name", [1, 2, 3]),
        ("NHS number", [5, 6, 7]),
    ]


def test_ocr_near_misses_of_a_distinctive_name_are_caught():
    identity = Identity(names=("Siobhan Fairweather",))
    words = [Word("seen", (0, 0, 10, 10)), Word("Fairwealher", (12, 0, 40, 10))]
    assert [hit.words for hit in find_in_words(words, identity)] == [[1]]


def test_the_chinese_name_of_the_home_town_is_the_cases_own():
    at_home = Identity(address_lines=("1 Park Row", "Leeds LS1 4AP"))
    assert [(h.kind, h.text, h.identity) for h in find("住在利兹，在伦敦看病。", at_home)] == [
        ("address", "利兹", True)
    ]
    # A town not on the case's address or provider is just a town.
    assert find("住在利兹。", Identity(address_lines=("1 Park Row", "York"))) == []


def test_a_town_is_matched_as_a_whole_word_only():
    from cases.domain.places import UK_PLACES_ZH, chinese_place_names

    assert chinese_place_names(["Manchester Royal Infirmary"]) == ("曼彻斯特",)
    assert chinese_place_names(["Solihull"]) == ()
    assert chinese_place_names(["Bristol Royal Infirmary"]) == ("布里斯托尔", "布里斯托")
    assert find("在布里斯托尔", Identity(providers=("Bristol Royal Infirmary",)))[0].text == (
        "布里斯托尔"
    )
    assert all(names and all(n.strip() for n in names) for names in UK_PLACES_ZH.values())

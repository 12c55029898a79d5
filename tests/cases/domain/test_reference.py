import re

import pytest

from cases.domain import reference
from cases.domain.reference import ALPHABET


def test_it_generates_the_public_format():
    for _ in range(200):
        ref = reference.generate()
        assert re.fullmatch(r"MC-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", ref)
        assert reference.is_valid(ref)


def test_it_does_not_repeat_or_count_up():
    refs = [reference.generate() for _ in range(2000)]
    assert len(set(refs)) == len(refs)
    assert refs != sorted(refs)


def test_the_check_symbol_catches_every_single_wrong_symbol():
    ref = "MC-7K3Q-9XD" + reference.check_symbol("7K3Q9XD")
    body = ref[3:7] + ref[8:]
    for position in range(8):
        for symbol in ALPHABET:
            if symbol == body[position]:
                continue
            wrong = body[:position] + symbol + body[position + 1 :]
            assert reference.normalise(f"MC-{wrong[:4]}-{wrong[4:]}") is None


def test_the_check_symbol_catches_most_swaps_of_neighbours():
    caught = total = 0
    for _ in range(300):
        ref = reference.generate()
        body = ref[3:7] + ref[8:]
        for position in range(7):
            if body[position] == body[position + 1]:
                continue
            swapped = body[:position] + body[position + 1] + body[position] + body[position + 2 :]
            total += 1
            caught += reference.normalise(f"MC-{swapped[:4]}-{swapped[4:]}") is None
    assert caught / total > 0.9


@pytest.mark.parametrize(
    "typed",
    ["mc-{a}-{b}", " MC-{a}-{b} ", "MC{a}{b}", "{a}-{b}", "{a}{b}"],
)
def test_it_reads_what_people_type(typed):
    ref = reference.generate()
    a, b = ref[3:7], ref[8:]
    assert reference.normalise(typed.format(a=a.lower() if "mc" in typed else a, b=b)) == ref


def test_it_reads_confusable_letters_as_crockford_says():
    payload = "1010000"
    ref = f"MC-{payload[:4]}-{payload[4:]}{reference.check_symbol(payload)}"
    assert reference.normalise(ref.replace("1", "I", 1).replace("0", "O", 1)) == ref


@pytest.mark.parametrize(
    "bad", ["", "MC-", "MC-1234-567", "MC-1234-56789", "XX-1234-5678", "MC-UUUU-UUUU"]
)
def test_it_rejects_malformed_references(bad):
    assert reference.normalise(bad) is None

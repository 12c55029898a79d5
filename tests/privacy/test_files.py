"""However a case, record or case file is deleted, its stored files go with it."""

import pytest
from django.db import transaction

from cases.models import Case, Record
from tests.privacy.support import files_in, full_case

pytestmark = pytest.mark.django_db


def test_deleting_a_case_removes_every_file_it_had(private_storage, run_on_commit):
    case, _ = full_case()
    other, _ = full_case(contact_email="someone.else@example.org")
    before = files_in(private_storage)
    mine = [p for p in before if any(str(r.public_id) in str(p) for r in case.records.all())]
    assert len(mine) >= 5  # originals, clean copies, thumbnails, a preview

    with run_on_commit():
        Case.objects.filter(pk=case.pk).delete()

    after = files_in(private_storage)
    assert len(after) == len(before) - len(mine)
    assert not set(mine) & set(after)
    assert other.records.count() == 2


def test_deleting_records_with_a_queryset_removes_their_files(private_storage, run_on_commit):
    case, _ = full_case()
    assert files_in(private_storage)
    with run_on_commit():
        Record.objects.filter(case=case).delete()
    assert files_in(private_storage) == []


def test_a_rolled_back_delete_keeps_the_files(private_storage, run_on_commit):
    case, _ = full_case()
    before = files_in(private_storage)
    with run_on_commit(), pytest.raises(RuntimeError), transaction.atomic():
        case.records.first().delete()
        raise RuntimeError("changed my mind")
    assert files_in(private_storage) == before

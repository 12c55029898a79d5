"""What the busiest interactive requests cost in SQL, so a regression shows up here.

Patients fill in the wizard and open their portal while case files render on the same
machine; every query is a round trip that waits for a busy database.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session

from tests.factories import patient_case

pytestmark = pytest.mark.django_db

WHO = {"filling_in_for": "self", "relationship": ""}
SHARED_CACHE = not settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
# With a shared cache (Redis, as in production and CI) the session comes from it.
SESSION_QUERIES = 0 if SHARED_CACHE else 1


def test_a_wizard_step_costs_a_draft_read_and_a_draft_write(client, django_assert_num_queries):
    client.post("/start/", {"urgent": "no"})
    client.get("/start/who/")  # the draft is made on the first visit
    with django_assert_num_queries(SESSION_QUERIES + 2):
        response = client.post("/start/who/", WHO)
    assert response.status_code == 302 and response["Location"] == "/start/contact/"
    # Nothing in the session changed, so it was not written again.
    with django_assert_num_queries(SESSION_QUERIES + 2):
        client.post("/start/who/", WHO)


def test_the_portal_costs_the_user_their_cases_and_one_unread_count(
    client, django_assert_num_queries
):
    case, membership = patient_case()
    client.force_login(membership.user)
    # User, memberships with their cases, and the unread messages of all cases at once.
    with django_assert_num_queries(SESSION_QUERIES + 3):
        page = client.get("/my/")
    assert case.reference in page.text


def test_the_case_page_counts_records_in_one_query(client, django_assert_num_queries):
    case, membership = patient_case()
    client.force_login(membership.user)
    # Session, user, membership, audit row, events, checklist (directions, categories),
    # record request, outcome, case file, sharing consent, record counts, unread messages.
    with django_assert_num_queries(SESSION_QUERIES + 12):
        page = client.get(f"/my/cases/{case.reference}/")
    assert page.status_code == 200


@pytest.mark.skipif(not SHARED_CACHE, reason="sessions use the cache only when it is shared")
def test_a_session_survives_a_cache_flush(client):
    from django.core.cache import cache

    _case, membership = patient_case()
    client.force_login(membership.user)
    assert Session.objects.count() == 1  # written through to the database
    cache.clear()
    assert client.get("/my/").status_code == 200


def test_a_step_with_errors_costs_a_draft_read_and_one_write_of_what_was_typed(
    client, django_assert_num_queries
):
    client.post("/start/", {"urgent": "no"})
    client.get("/start/who/")
    with django_assert_num_queries(SESSION_QUERIES + 2):
        response = client.post("/start/who/", {"filling_in_for": "family"})
    assert response.status_code == 200
    # The same again (a resent form) changes nothing, so nothing is written.
    with django_assert_num_queries(SESSION_QUERIES + 1):
        client.post("/start/who/", {"filling_in_for": "family"})

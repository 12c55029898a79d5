"""Claims on task-backed rows are leases: held until an expiry, renewed while working.

A worker that dies (``kill -9``, a lost host) or a database blip mid-task used to leave a
row ``rendering`` or ``checking`` for good: the redelivered task could not claim it and
"succeeded" doing nothing. Now a claim writes ``lease_expires_at``; while the work runs a
small thread pushes it forward; a claim succeeds on a waiting row *or* a working row whose
lease has run out. The reconciler (``cases.reconcile``) re-enqueues rows whose lease
expired or that waited too long, so work comes back within two minutes of a worker dying.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, models
from django.db.models import F, Q
from django.utils import timezone

logger = logging.getLogger(__name__)

# A working row is someone's for this long after its last renewal.
LEASE = timedelta(seconds=60)
# Renewed this often while the work runs: two renewals can fail before the lease lapses.
RENEW_EVERY = timedelta(seconds=20)


def lease_until(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + LEASE


def lease_claim(
    model: type[models.Model],
    pk: int,
    *,
    waiting: Iterable[str],
    working: str,
    **updates: Any,
) -> bool:
    """Move one row to ``working`` under a fresh lease; False when someone else holds it.

    Counts the attempt (``attempts`` + 1) so a file that kills its worker every time is
    given up on after a few tries instead of looping for ever.
    """
    now = timezone.now()
    claimable = Q(state__in=list(waiting)) | Q(state=working, lease_expires_at__lt=now)
    claimable |= Q(state=working, lease_expires_at__isnull=True)
    changed = model._default_manager.filter(claimable, pk=pk).update(
        state=working, lease_expires_at=lease_until(now), attempts=F("attempts") + 1, **updates
    )
    return changed == 1


def lease_release(model: type[models.Model], pk: int, *, working: str, back_to: str) -> None:
    """Hand a row back to waiting after a fault on our side, so a retry can claim it at once.

    Best effort: when the database itself is the fault this fails too, and the lease
    simply runs out.
    """
    try:
        model._default_manager.filter(pk=pk, state=working).update(
            state=back_to, lease_expires_at=None
        )
    except Exception:
        logger.warning("lease not released", extra={"model": model.__name__, "pk": pk})


@contextmanager
def lease_kept(model: type[models.Model], pk: int, *, working: str) -> Iterator[None]:
    """Renew the row's lease every ``RENEW_EVERY`` while the body runs.

    A thread does it (with its own database connection), so a long WeasyPrint layout or
    a 120-page TIFF does not need to stop and say it is alive.
    """
    stop = threading.Event()

    def renew() -> None:
        try:
            while not stop.wait(RENEW_EVERY.total_seconds()):
                model._default_manager.filter(pk=pk, state=working).update(
                    lease_expires_at=lease_until()
                )
        except Exception:
            logger.warning("lease renewal failed", extra={"model": model.__name__, "pk": pk})
        finally:
            connections.close_all()

    thread = threading.Thread(target=renew, name=f"lease-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)

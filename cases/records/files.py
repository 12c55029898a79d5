"""Records' files: markers on their metadata that the worker acts on, and the rule that
files follow their rows.

Django never deletes a FileField's file when its row goes (by design: rollbacks, shared
files). Ours are never shared — every name is server-made under the row's own id — so a
row deleted in any way (a service, the admin, a cascade from its case, a queryset) must
take its files along, or erased patients would stay in storage. The files are removed
only once the deletion has committed: a rollback keeps row and files together.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core.files.storage import Storage
from django.db import models, router, transaction
from django.db.models.deletion import Collector
from django.db.models.signals import post_delete

# Marks a record whose original is a bundle of photos still to be combined into a PDF.
COMBINE_PHOTOS = "combine_photos"


StoredFile = tuple[Storage, str]


def stored_files(instance: models.Model) -> list[StoredFile]:
    """Every file this row holds in storage, as (storage, name)."""
    found: list[StoredFile] = []
    for field in instance._meta.concrete_fields:
        if isinstance(field, models.FileField):
            value = getattr(instance, field.name)
            if value and value.name:
                found.append((value.storage, value.name))
    return found


def files_cleared(instance: models.Model) -> tuple[list[StoredFile], list[str]]:
    """Empty every file field of this row (not yet saved): its files and the fields' names.

    The caller saves the fields and passes the files to ``files_delete_on_commit``.
    """
    files = stored_files(instance)
    names = [f.name for f in instance._meta.concrete_fields if isinstance(f, models.FileField)]
    for name in names:
        setattr(instance, name, "")
    return files, names


def files_delete_on_commit(files: Iterable[StoredFile]) -> None:
    """Remove these files once the current transaction commits (at once outside one)."""
    files = list(files)
    if not files:
        return

    def remove() -> None:
        for storage, name in files:
            storage.delete(name)

    transaction.on_commit(remove)


def _row_deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    files_delete_on_commit(stored_files(instance))


def files_follow_rows(app_labels: Iterable[str] = ("cases", "intake")) -> None:
    """Connect the clean-up to every model of these apps that holds files.

    Called from ``AppConfig.ready``; a model added later with a FileField is covered
    without anyone remembering to.
    """
    for label in app_labels:
        for model in apps.get_app_config(label).get_models():
            if any(isinstance(f, models.FileField) for f in model._meta.concrete_fields):
                post_delete.connect(
                    _row_deleted, sender=model, dispatch_uid=f"files-follow-{model._meta.label}"
                )


def files_under(instances: Iterable[models.Model]) -> list[StoredFile]:
    """The files of these rows and of everything deleting them would cascade to."""
    instances = list(instances)
    if not instances:
        return []
    collector = Collector(using=router.db_for_write(type(instances[0])))
    collector.collect(instances)
    found: list[StoredFile] = []
    for model_instances in collector.data.values():
        for instance in model_instances:
            found.extend(stored_files(instance))
    return found

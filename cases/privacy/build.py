"""Building a patient's data download: the zip, written by a worker (heavy queue).

Only the worker (through ``cases.tasks``) and the ``export_case`` command import this:
it loads WeasyPrint for the readable PDF of the enquiry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import InterfaceError, OperationalError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from cases import access
from cases.casefile.fetcher import SafeFetcher
from cases.leases import lease_claim, lease_kept
from cases.models import Case, CaseFile, DataExport, Membership, Notification
from cases.notifications import notification_queue
from cases.privacy.export import OFFERED_FOR
from cases.storage import scratch_dir

logger = logging.getLogger(__name__)

ENQUIRY_FIELDS = [
    "reference",
    "status",
    "submitted_at",
    "submitted_by_family",
    "relationship",
    "contact_name",
    "contact_email",
    "contact_phone",
    "preferred_contact",
    "contact_times",
    "patient_name",
    "patient_date_of_birth",
    "nhs_number",
    "current_provider",
    "medical_area",
    "diagnosis",
    "treatment_so_far",
    "treatment_plan",
    "worries",
    "questions",
    "goal",
    "decision_deadline",
    "language",
    "interpretation_needs",
]


def _actor_label(user: User | None, case: Case) -> str:
    if user is None:
        return "medChina Intake (automatic)"
    if user.is_staff:
        names = {g.lower() for g in user.groups.values_list("name", flat=True)}
        for role in ("manager", "translator", "coordinator"):
            if role in names:
                return role.capitalize()
        return "Staff"
    membership = Membership.objects.filter(case=case, user=user).first()
    return membership.get_role_display() if membership else "Former case member"


def _enquiry(case: Case) -> dict[str, Any]:
    data = {name: getattr(case, name) for name in ENQUIRY_FIELDS}
    data["medical_area"] = case.get_medical_area_display()
    data["goal"] = case.get_goal_display()
    data["status"] = case.get_status_display()
    data["consents"] = [
        {
            "kind": consent.get_kind_display(),
            "text_version": consent.text_version,
            "text_sha256": consent.text_sha256,
            "given_at": consent.given_at,
            "withdrawn_at": consent.withdrawn_at,
        }
        for consent in case.consents.all()
    ]
    data["status_history"] = [
        {"at": e.at, "from": e.from_status, "to": e.to_status, "note": e.note}
        for e in case.events.all()
    ]
    return data


def _messages(case: Case) -> list[dict[str, Any]]:
    return [
        {
            "at": message.created_at,
            "from": _actor_label(message.author, case),
            "text": message.body,
            "attachments": [str(r.public_id) for r in message.attachments.all()],
        }
        for message in case.messages.select_related("author").order_by("created_at")
    ]


def _audit(case: Case) -> list[dict[str, Any]]:
    return [
        {
            "at": event.at,
            "action": event.get_action_display(),
            "by": _actor_label(event.actor, case),
            "target": event.target,
        }
        for event in case.audit_events.select_related("actor").order_by("at", "pk")
    ]


def _json(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode()


def _enquiry_pdf(case: Case, enquiry: dict[str, Any]) -> bytes:
    html = render_to_string(
        "cases/privacy/enquiry.html",
        {"case": case, "enquiry": enquiry, "made_at": timezone.now()},
    )
    return HTML(string=html, url_fetcher=SafeFetcher({}), base_url="mcstatic:").write_pdf()


def _safe_member_name(number: int, name: str) -> str:
    # A zip entry name from the uploader's (already cleaned) name; never a path.
    cleaned = name.replace("/", "_").replace("\\", "_").lstrip(".") or "record"
    return f"records/{number:03d}-{cleaned}"


def data_export_build_zip(case: Case, output: Path) -> int:
    """Write the zip for this case to ``output``; returns how many files it holds."""
    enquiry = _enquiry(case)
    count = 0
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", render_to_string("cases/privacy/readme.txt", {"case": case}))
        archive.writestr("enquiry.json", _json(enquiry))
        archive.writestr("enquiry.pdf", _enquiry_pdf(case, enquiry))
        records = []
        for number, record in enumerate(case.records.present().order_by("created_at"), 1):
            entry: dict[str, Any] = {
                "id": str(record.public_id),
                "category": record.get_category_display(),
                "document_date": record.document_date,
                "description": record.description,
                "original_name": record.original_name,
                "uploaded_at": record.created_at,
                "state": record.get_state_display(),
                "file": "",
            }
            if record.original:
                member = _safe_member_name(number, record.original_name)
                entry["file"] = member
                with record.original.open("rb") as source, archive.open(member, "w") as out:
                    for chunk in iter(lambda: source.read(1024 * 1024), b""):
                        out.write(chunk)
                count += 1
            records.append(entry)
        archive.writestr("records.json", _json(records))
        released = case.case_files.filter(
            variant=CaseFile.Variant.INTERNAL, state=CaseFile.State.READY, released_at__isnull=False
        )
        for case_file in released:
            name = f"case-files/{case.reference}-case-file-v{case_file.version}.pdf"
            with case_file.file.open("rb") as source, archive.open(name, "w") as out:
                for chunk in iter(lambda: source.read(1024 * 1024), b""):
                    out.write(chunk)
            count += 1
        archive.writestr("messages.json", _json(_messages(case)))
        archive.writestr("audit-trail.json", _json(_audit(case)))
    return count + 6


class TransientFailure(Exception):
    """Storage or disk trouble worth another try."""


def data_export_build(*, export_id: int) -> DataExport | None:
    """Claim a queued export, build its zip, store it and tell the patient it is ready."""
    if not lease_claim(
        DataExport,
        export_id,
        waiting=[DataExport.State.QUEUED],
        working=DataExport.State.BUILDING,
        started_at=timezone.now(),
    ):
        # Ready or failed already, or another worker holds a live lease on it.
        return None
    export = DataExport.objects.select_related("case").get(pk=export_id)
    with tempfile.TemporaryDirectory(prefix="export-", dir=scratch_dir()) as folder:
        output = Path(folder) / "data.zip"
        try:
            with lease_kept(DataExport, export_id, working=DataExport.State.BUILDING):
                data_export_build_zip(export.case, output)
        except (OSError, OperationalError, InterfaceError) as error:
            # Storage, disk or database trouble: not the patient's data at fault. Hand the
            # row back so the retry (or the reconciler) can claim it.
            DataExport.objects.filter(pk=export_id).update(
                state=DataExport.State.QUEUED,
                lease_expires_at=None,
                last_error=f"{type(error).__name__}: {error}"[:500],
            )
            raise TransientFailure(str(error)) from error
        except Exception as error:  # a damaged file must not leave the row "building"
            logger.exception("data export failed", extra={"export_id": export_id})
            DataExport.objects.filter(pk=export_id).update(
                state=DataExport.State.FAILED,
                last_error=f"{type(error).__name__}: {error}"[:500],
                finished_at=timezone.now(),
            )
            return None
        digest = hashlib.sha256()
        with output.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
        with transaction.atomic(), output.open("rb") as handle:
            export.file.save("data.zip", File(handle), save=False)
            export.size = output.stat().st_size
            export.sha256 = digest.hexdigest()
            export.state = DataExport.State.READY
            export.lease_expires_at = None
            export.finished_at = timezone.now()
            export.expires_at = export.finished_at + OFFERED_FOR
            export.last_error = ""
            export.save()
            for email in access.case_manager_emails(export.case):
                notification_queue(
                    kind=Notification.Kind.EXPORT_READY,
                    to_email=email,
                    case=export.case,
                    next_path=f"/my/cases/{export.case.reference}/data/",
                )
    return export

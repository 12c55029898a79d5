from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from cases.models import Case


class EnquiryDraft(models.Model):
    """Wizard answers saved server-side, step by step, until the enquiry is sent.

    Only the session knows the draft's id, so a reload, the back button or a return
    later in the same browser picks up where the person left off.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    # What was typed on a step last sent back with errors, by step, exactly as typed (cut
    # to each field's limit): shown again on Back, a return or a reload, never an answer.
    typed = models.JSONField(default=dict, blank=True)
    case = models.OneToOneField(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="draft"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Enquiry draft {self.id}"

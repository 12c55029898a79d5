"""Secure messages: one thread per case, and how far each person has read it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models.case import Case

User = settings.AUTH_USER_MODEL


class Message(models.Model):
    """One message in a case's thread. E-mails say only that there is one."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    from_staff = models.BooleanField(default=False)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"Message on {self.case_id}"


class MessageRead(models.Model):
    """How far one person has read a case's thread (for unread counts)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="one_read_mark_per_person")
        ]

    def __str__(self) -> str:
        return f"Read mark on {self.case_id}"

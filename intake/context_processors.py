"""Who we are, on every page: the footer, the contact page and the privacy notice."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest


def tel_href(number: str) -> str:
    """A ``tel:`` address for a number as people write it: digits, and a leading +."""
    # "+44 (0)20 …": the bracketed trunk zero is not dialled after a country code.
    digits = re.sub(r"[^\d+]", "", number.replace("(0)", ""))
    return f"tel:{digits[0]}{digits[1:].replace('+', '')}" if digits else ""


def organisation(request: HttpRequest) -> dict[str, dict[str, str]]:
    return {
        "organisation": {
            "name": settings.MEDCHINA_ORGANISATION_NAME,
            "address": settings.MEDCHINA_ORGANISATION_ADDRESS,
            "email": settings.MEDCHINA_CONTACT_EMAIL,
            "phone": settings.MEDCHINA_CONTACT_PHONE,
            "phone_href": tel_href(settings.MEDCHINA_CONTACT_PHONE),
            "hours": settings.MEDCHINA_CONTACT_HOURS,
            "data_controller": settings.MEDCHINA_DATA_CONTROLLER,
            "privacy_email": settings.MEDCHINA_PRIVACY_EMAIL,
            "ico_registration": settings.MEDCHINA_ICO_REGISTRATION,
        }
    }

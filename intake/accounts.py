"""How a link names the account it opens, without spelling out the whole address."""

from __future__ import annotations

MASK = "\u2022\u2022\u2022"  # •••


def mask_email(email: str) -> str:
    """``margaret@example.org`` -> ``m•••@example.org``: enough to recognise your own."""
    local, at, domain = email.partition("@")
    if not at:
        return f"{email[:1]}{MASK}"
    return f"{local[:1]}{MASK}@{domain}"

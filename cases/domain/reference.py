"""Public case references: ``MC-XXXX-XXXX``.

Seven random Crockford base32 symbols and one check symbol (Luhn mod 32), so a mistyped
reference is almost always caught before it reaches the database. Crockford's alphabet
has no I, L, O or U; on input those read as 1, 1, 0 and V, as Crockford prescribes.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUES = {symbol: value for value, symbol in enumerate(ALPHABET)}
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
_PATTERN = re.compile(r"^MC-([0-9A-Z]{4})-([0-9A-Z]{4})$")
PREFIX = "MC"


def check_symbol(payload: str) -> str:
    """Luhn mod N over base32 values: catches any single wrong symbol and most swaps."""
    factor = 2
    total = 0
    for symbol in reversed(payload):
        addend = factor * _VALUES[symbol]
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def generate() -> str:
    payload = "".join(secrets.choice(ALPHABET) for _ in range(7))
    body = payload + check_symbol(payload)
    return f"{PREFIX}-{body[:4]}-{body[4:]}"


def normalise(text: str) -> str | None:
    """Return the canonical reference for what a person typed, or None if it is invalid."""
    cleaned = re.sub(r"[\s]", "", text.upper()).translate(_READ_AS)
    if not cleaned.startswith("MC-"):
        cleaned = "MC-" + cleaned.removeprefix("MC")
    if "-" not in cleaned[3:] and len(cleaned) == 11:
        cleaned = f"{cleaned[:7]}-{cleaned[7:]}"
    match = _PATTERN.match(cleaned)
    if not match:
        return None
    body = match.group(1) + match.group(2)
    if any(symbol not in _VALUES for symbol in body):
        return None
    if check_symbol(body[:7]) != body[7]:
        return None
    return f"{PREFIX}-{body[:4]}-{body[4:]}"


def is_valid(text: str) -> bool:
    return normalise(text) == text

"""Normalising customer contact details so that identity matching can compare them."""

import re

_NON_DIGITS = re.compile(r"\D+")


def normalize_phone(raw: str, *, default_country: str = "86") -> str:
    """A phone number as '+<country><number>', or '' when there are no digits.

    Accepts what people type: spaces, dashes, brackets, full-width digits,
    a leading '+' or '00', or a bare Chinese mobile number (11 digits, 1…).
    """
    if not raw:
        return ""
    # Full-width digits (０-９) and plus (＋) are common in Chinese input methods.
    text = raw.strip().translate({0xFF10 + i: ord("0") + i for i in range(10)} | {0xFF0B: ord("+")})
    has_plus = text.startswith("+")
    digits = _NON_DIGITS.sub("", text)
    if not digits:
        return ""
    if has_plus:
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if len(digits) == 11 and digits.startswith("1"):
        return f"+{default_country}{digits}"
    if digits.startswith("0"):
        # A domestic number with a trunk prefix (010-12345678): drop the 0.
        return f"+{default_country}{digits[1:]}"
    return "+" + digits if len(digits) > 11 else f"+{default_country}{digits}"


def normalize_email(raw: str) -> str:
    return (raw or "").strip().lower()

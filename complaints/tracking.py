"""Tracking numbers: PREFIX-YYYYMMDD-XXXXX.

The code is random (it reveals nothing about volume) and drawn from an alphabet
without look-alike characters (0/O, 1/I/L, 2/Z, 5/S, 8/B), because customers
read it over the phone.
"""

import re
import secrets
from datetime import datetime

from django.conf import settings
from django.utils import timezone

ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 5
_PATTERN = re.compile(r"^([A-Z]{1,10})-(\d{8})-([" + ALPHABET + r"]{" + str(CODE_LENGTH) + r"})$")


def new_tracking_number(received_at: datetime) -> str:
    day = timezone.localtime(received_at).strftime("%Y%m%d")
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{settings.COMPLAINT_TRACKING_PREFIX}-{day}-{code}"


def clean_tracking_number(raw: str) -> str | None:
    """What a customer typed, as a canonical tracking number, or None if it cannot be one.

    Tolerates case, spaces and missing dashes; maps look-alikes a customer may type
    (O→0 is not in the alphabet, so only case and separators are forgiven).
    """
    text = re.sub(r"[\s\-_]+", "", (raw or "").upper())
    m = re.fullmatch(r"([A-Z]{1,10})(\d{8})([A-Z0-9]{" + str(CODE_LENGTH) + r"})", text)
    if not m:
        return None
    candidate = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    return candidate if _PATTERN.match(candidate) else None

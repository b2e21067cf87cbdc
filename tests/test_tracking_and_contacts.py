import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from complaints.contacts import normalize_email, normalize_phone
from complaints.tracking import ALPHABET, clean_tracking_number, new_tracking_number


def test_tracking_number_form_and_local_date(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    # 20:00 UTC on the 22nd is already the 23rd in Shanghai.
    number = new_tracking_number(datetime(2026, 11, 22, 20, 0, tzinfo=UTC))
    assert re.fullmatch(r"TS-20261123-[" + ALPHABET + "]{5}", number)


def test_tracking_prefix_is_configurable(settings):
    settings.COMPLAINT_TRACKING_PREFIX = "CMP"
    assert new_tracking_number(datetime(2026, 1, 2, tzinfo=UTC)).startswith("CMP-20260102-")


def test_alphabet_has_no_look_alikes():
    for char in "0O1IL2Z5S8B":
        assert char not in ALPHABET


def test_tracking_codes_are_random_not_sequential():
    day = datetime(2026, 11, 23, 4, tzinfo=UTC)
    codes = {new_tracking_number(day) for _ in range(200)}
    assert len(codes) > 190


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ts-20261123-7k4q9", "TS-20261123-7K4Q9"),
        (" TS 20261123 7K4Q9 ", "TS-20261123-7K4Q9"),
        ("TS202611237K4Q9", "TS-20261123-7K4Q9"),
        ("TS-20261123-7K4Q0", None),  # 0 is never issued
        ("TS-2026112-7K4Q9", None),
        ("", None),
        ("'; DROP TABLE", None),
    ],
)
def test_clean_tracking_number(typed, expected):
    assert clean_tracking_number(typed) == expected


@given(st.text())
def test_clean_tracking_number_never_crashes(text):
    result = clean_tracking_number(text)
    assert result is None or re.fullmatch(r"[A-Z]+-\d{8}-[" + ALPHABET + "]{5}", result)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("138 0013 8000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("１３８００１３８０００", "+8613800138000"),
        ("010-12345678", "+861012345678"),
        ("+44 20 7946 0958", "+442079460958"),
        ("no digits", ""),
        ("", ""),
    ],
)
def test_normalize_phone(raw, expected):
    assert normalize_phone(raw) == expected


def test_normalize_email():
    assert normalize_email("  Li.Wei@Example.COM ") == "li.wei@example.com"

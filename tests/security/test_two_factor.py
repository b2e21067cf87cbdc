"""Optional TOTP two-factor sign-in for staff (settings.REQUIRE_2FA)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

SETUP = "/accounts/2fa/setup/"
VERIFY = "/accounts/2fa/verify/"


def _code(device: TOTPDevice, *, ahead: int = 0) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=ahead)
    return f"{value:0{device.digits}d}"


def _sign_in(client, username: str):
    return client.post("/accounts/login/", {"username": username, "password": "pw"})


@pytest.fixture
def required(settings):
    settings.REQUIRE_2FA = True


def test_off_by_default(client, org, settings):
    assert settings.REQUIRE_2FA is False
    _sign_in(client, "agent")
    assert client.get(reverse("complaints:staff-home")).status_code == 200


def test_staff_set_up_a_device_then_pass(client, org, required):
    _sign_in(client, "agent")
    home = reverse("complaints:staff-home")
    response = client.get(home)
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)

    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body  # the QR code drawn here, not fetched from a QR service
    assert "<img" not in body.split('id="otp-qr"')[1].split("</div>")[0]
    device = TOTPDevice.objects.get(user=org.agent, confirmed=False)
    assert page.context["secret"] in body

    wrong = client.post(SETUP, {"code": "000000", "next": home})
    assert wrong.status_code == 200
    assert "not right" in wrong.content.decode()
    assert client.get(home).status_code == 302

    # django-otp also slows down guessing after a failure: wait that out.
    TOTPDevice.objects.update(throttling_failure_timestamp=None, throttling_failure_count=0)
    ok = client.post(SETUP, {"code": _code(device), "next": home})
    assert ok.status_code == 302 and ok["Location"] == home
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(home).status_code == 200


def test_a_new_session_asks_for_a_code(client, org, required):
    device = TOTPDevice.objects.create(user=org.agent, name="default", confirmed=True)
    _sign_in(client, "agent")
    response = client.get(reverse("complaints:staff-home"))
    assert response["Location"].startswith(VERIFY)
    # The setup page does not hand out a second device.
    assert client.get(SETUP)["Location"] == VERIFY
    assert client.post(VERIFY, {"code": "12345x"}).status_code == 200
    ok = client.post(VERIFY, {"code": _code(device), "next": "https://evil.example/"})
    assert ok.status_code == 302 and ok["Location"] == "/"  # no open redirect
    assert client.get(reverse("complaints:staff-home")).status_code == 200
    # A code is good once.
    client.post(reverse("logout"))
    _sign_in(client, "agent")
    again = client.post(VERIFY, {"code": _code(device)})
    assert again.status_code == 200


def test_codes_are_rate_limited(client, org, required):
    from django.core.cache import cache

    cache.clear()
    device = TOTPDevice.objects.create(user=org.agent, name="default", confirmed=True)
    _sign_in(client, "agent")
    for _ in range(5):
        client.post(VERIFY, {"code": "000000"})
    blocked = client.post(VERIFY, {"code": _code(device)})
    assert blocked.status_code == 200
    assert "Too many attempts" in blocked.content.decode()


def test_users_without_a_staff_role_are_not_asked(client, org, required):
    _sign_in(client, "nobody")
    # The usual refusal, not the two-factor page.
    assert client.get(reverse("complaints:staff-home")).status_code == 403


def test_the_public_pages_need_no_second_factor(client, org, required):
    assert client.get("/submit/").status_code == 200

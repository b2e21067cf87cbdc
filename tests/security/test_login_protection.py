"""Login protection: lock-out after repeated failures, the access log, session
expiry and rotation, password strength."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from complaints import roles
from complaints.models import AccessLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture
def agent(db):
    from tests.conftest import ensure_reference_data

    ensure_reference_data()
    return UserFactory(username="lockme", role=roles.AGENT)


def _login(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- Lock-out ---------------------------------------------------------------------------


def test_settings_defaults():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_locked_out_after_five_failures_even_with_the_right_password(client, agent):
    for _ in range(4):
        response = _login(client, "lockme", "wrong")
        assert response.status_code == 200  # the form again, with its error
    response = _login(client, "lockme", "wrong")
    assert response.status_code == 429
    assert b'id="locked-out"' in response.content
    response = _login(client, "lockme", "pw")
    assert response.status_code == 429
    assert not _signed_in(client)


def test_four_failures_then_the_right_password_signs_in_and_resets(client, agent):
    for _ in range(4):
        _login(client, "lockme", "wrong")
    response = _login(client, "lockme", "pw")
    assert response.status_code == 302
    assert _signed_in(client)
    # The count starts again after a success (AXES_RESET_ON_SUCCESS).
    assert not AccessAttempt.objects.filter(username="lockme", failures_since_start__gt=0).exists()


def test_lock_out_ends_after_the_window(client, agent):
    for _ in range(5):
        _login(client, "lockme", "wrong")
    assert _login(client, "lockme", "pw").status_code == 429
    # Sixteen minutes later (the window is 15).
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    response = _login(client, "lockme", "pw")
    assert response.status_code == 302
    assert _signed_in(client)


def test_lock_out_is_per_user_and_address(client, agent):
    UserFactory(username="colleague", role=roles.AGENT)
    for _ in range(5):
        _login(client, "lockme", "wrong")
    # Someone else on the same address is not locked out by it...
    assert _login(client, "colleague", "pw").status_code == 302
    # ...nor the same user from another address.
    other = client.__class__()
    assert _login(other, "lockme", "pw", REMOTE_ADDR="10.0.0.9").status_code == 302


def test_client_ip_header_is_used_when_configured(client, agent, settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    for _ in range(5):
        _login(client, "lockme", "wrong", HTTP_X_REAL_IP="203.0.113.7")
    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"
    # The proxy reports another client: not locked.
    assert _login(client, "lockme", "pw", HTTP_X_REAL_IP="203.0.113.8").status_code == 302


def test_admin_login_is_protected_too(client, agent):
    for _ in range(5):
        client.post("/admin/login/", {"username": "lockme", "password": "wrong"})
    assert _login(client, "lockme", "pw").status_code == 429


# --- The access log -----------------------------------------------------------------------


def test_login_failure_lockout_and_logout_are_logged(client, agent):
    _login(client, "lockme", "wrong", REMOTE_ADDR="198.51.100.4")
    failed = AccessLog.objects.get(event=AccessLog.Event.LOGIN_FAILED)
    assert (failed.username, failed.user, failed.ip) == ("lockme", None, "198.51.100.4")
    assert "wrong" not in str(failed.detail)

    _login(client, "lockme", "pw", REMOTE_ADDR="198.51.100.4")
    login = AccessLog.objects.get(event=AccessLog.Event.LOGIN)
    assert (login.user, login.username, login.ip) == (agent, "lockme", "198.51.100.4")

    client.post(reverse("logout"), REMOTE_ADDR="198.51.100.4")
    logout = AccessLog.objects.get(event=AccessLog.Event.LOGOUT)
    assert logout.user == agent

    for _ in range(5):
        _login(client, "lockme", "wrong", REMOTE_ADDR="198.51.100.4")
    locked = AccessLog.objects.filter(event=AccessLog.Event.LOCKED_OUT)
    assert locked.count() >= 1
    assert locked.first().username == "lockme"
    assert AccessLog.objects.filter(event=AccessLog.Event.LOGIN_FAILED).count() == 6


def test_unknown_user_name_is_logged_as_typed(client, agent):
    _login(client, "nobody-like-this", "x")
    row = AccessLog.objects.get(event=AccessLog.Event.LOGIN_FAILED)
    assert row.username == "nobody-like-this"
    assert row.user is None


def test_denied_access_is_logged(client, agent):
    outsider = UserFactory(username="norole")
    client.force_login(outsider)
    response = client.get(reverse("complaints:staff-home"))
    assert response.status_code == 403
    row = AccessLog.objects.get(event=AccessLog.Event.DENIED)
    assert row.user == outsider
    assert row.path == reverse("complaints:staff-home")
    assert row.detail["status"] == 403


def test_api_refusal_is_logged(client):
    response = client.get(reverse("api:complaint-list"))
    assert response.status_code in (401, 403)
    row = AccessLog.objects.get(event=AccessLog.Event.DENIED)
    assert row.user is None
    assert row.detail["status"] == response.status_code


def test_a_normal_page_writes_no_log(client, agent):
    client.force_login(agent)
    before = AccessLog.objects.count()
    assert client.get(reverse("complaints:staff-home")).status_code in (200, 302)
    assert AccessLog.objects.count() == before


# --- Sessions -------------------------------------------------------------------------


def test_session_key_changes_at_login(client, agent):
    client.get(LOGIN)
    client.session["probe"] = 1  # an anonymous session exists
    session = client.session
    session["probe"] = 1
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    _login(client, "lockme", "pw")
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert _signed_in(client)
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=before).exists()


def test_session_expires(client, agent):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    _login(client, "lockme", "pw")
    assert client.session.get_expire_at_browser_close()
    assert client.session.get_expiry_age() == 8 * 3600


def test_logout_ends_the_session(client, agent):
    _login(client, "lockme", "pw")
    client.post(reverse("logout"))
    assert not _signed_in(client)
    assert client.get(reverse("complaints:staff-home")).status_code == 302


# --- Passwords ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Short1!x", "too short"),
        ("password123", "too common"),
        ("4839201746553", "entirely numeric"),
        ("lockme-example", "too similar"),
    ],
)
def test_weak_passwords_are_refused(agent, password, message):
    with pytest.raises(ValidationError) as error:
        password_validation.validate_password(password, user=agent)
    assert message in " ".join(error.value.messages)


def test_password_forms_apply_the_validators(agent):
    form = SetPasswordForm(agent, {"new_password1": "kettle", "new_password2": "kettle"})
    assert not form.is_valid()
    good = "Blue-kettle-harbour-9"
    form = SetPasswordForm(agent, {"new_password1": good, "new_password2": good})
    assert form.is_valid(), form.errors
    form.save()
    agent.refresh_from_db()
    assert agent.check_password(good)


def test_demo_passwords_still_work(db):
    """seed_demo sets weak demo passwords with set_password: validators apply to forms."""
    from django.core.management import call_command

    call_command("seed_demo", "--force", "--complaints", "0", verbosity=0)
    request = RequestFactory().post(LOGIN)
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    user = authenticate(request, username="agent", password="agent")
    assert user is not None and user.username == "agent"


# --- The access log in the admin ---------------------------------------------------------


def test_access_log_admin_is_read_only_and_for_admins(client, org):
    _login(client, "agent", "wrong")
    row = AccessLog.objects.get(event=AccessLog.Event.LOGIN_FAILED)
    changelist = reverse("admin:complaints_accesslog_changelist")
    client.force_login(org.admin)
    page = client.get(changelist)
    assert page.status_code == 200
    assert "agent" in page.content.decode()
    change = reverse("admin:complaints_accesslog_change", args=[row.pk])
    client.post(change, {"username": "someone-else"})
    row.refresh_from_db()
    assert row.username == "agent"
    delete = reverse("admin:complaints_accesslog_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AccessLog.objects.filter(pk=row.pk).exists()
    # A supervisor with admin access is refused.
    org.supervisor.is_staff = True
    org.supervisor.save()
    client.force_login(org.supervisor)
    assert client.get(changelist).status_code == 403

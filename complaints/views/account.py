"""Two-factor sign-in for staff (TOTP, django-otp), on when settings.REQUIRE_2FA.

After the password, a staff member without a device sets one up (a QR code drawn
here as inline SVG, and the secret as text: no outside QR service), and one with a
device enters the current code. complaints.security_signals.TwoFactorMiddleware sends
them here until this session has passed a code.
"""

from __future__ import annotations

import base64

import django_otp
import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from complaints import ratelimit

# Wrong codes allowed per user in a window (then wait): 6 digits are guessable otherwise.
CODE_ATTEMPTS = 5
CODE_WINDOW_SECONDS = 300


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("Code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": gettext_lazy("Enter the 6-digit code.")},
    )


def next_two_factor_step(user) -> str:
    """The URL name of the page this user must pass next."""
    if django_otp.user_has_device(user, confirmed=True):
        return "account-2fa-verify"
    return "account-2fa-setup"


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _throttled(request) -> bool:
    return not ratelimit.hit(
        "otp", str(request.user.pk), limit=CODE_ATTEMPTS, window=CODE_WINDOW_SECONDS
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    if django_otp.user_has_device(request.user, confirmed=True):
        return redirect("account-2fa-verify")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="default", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _throttled(request):
            form.add_error("code", _("Too many attempts. Wait a few minutes and try again."))
        elif device.verify_token(form.cleaned_data["code"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            django_otp.login(request, device)
            return redirect(_next_url(request))
        else:
            form.add_error("code", _("That code is not right. Check your device's clock."))
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    # segno writes plain SVG paths (no script, no style attribute): CSP-safe inline.
    qr_svg = mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4))  # noqa: S308
    return render(
        request,
        "complaints/account/two_factor_setup.html",
        {"form": form, "secret": secret, "qr_svg": qr_svg, "next": _next_url(request)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    if not django_otp.user_has_device(request.user, confirmed=True):
        return redirect("account-2fa-setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _throttled(request):
            form.add_error("code", _("Too many attempts. Wait a few minutes and try again."))
        else:
            device = django_otp.match_token(request.user, form.cleaned_data["code"].strip())
            if device is not None:
                django_otp.login(request, device)
                return redirect(_next_url(request))
            form.add_error("code", _("That code is not right. Check your device's clock."))
    return render(
        request,
        "complaints/account/two_factor_verify.html",
        {"form": form, "next": _next_url(request)},
    )


urlpatterns = [
    path("2fa/setup/", two_factor_setup, name="account-2fa-setup"),
    path("2fa/verify/", two_factor_verify, name="account-2fa-verify"),
]

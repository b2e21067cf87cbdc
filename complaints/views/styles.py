"""Stylesheets made from configuration: the priorities' colours, so templates need no
inline `style` attribute (the Content-Security-Policy allows styles from 'self' only)."""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from complaints.models import Priority

# Only a hex colour reaches the stylesheet, whatever an admin typed.
_HEX = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?(?:[0-9a-fA-F]{2})?")


@require_GET
@cache_control(max_age=300)
def priority_css(request) -> HttpResponse:
    rules = [
        f".prio-{pk} {{ color: {color}; }}"
        for pk, color in Priority.objects.values_list("pk", "color")
        if _HEX.fullmatch(color or "")
    ]
    return HttpResponse("\n".join(rules) + "\n", content_type="text/css; charset=utf-8")


urlpatterns = [path("styles/priorities.css", priority_css, name="priority-css")]

"""Privacy test helpers."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, clear_url_caches, reverse


@pytest.fixture(autouse=True)
def privacy_urls():
    """complaints.views.privacy.urlpatterns joins complaints/urls.py (the lead wires
    it); until then the tests add it themselves."""
    try:
        reverse("complaints:staff-customer-contact", args=[1])
    except NoReverseMatch:
        from complaints import urls
        from complaints.views import privacy

        urls.urlpatterns += privacy.urlpatterns
        clear_url_caches()
    yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path

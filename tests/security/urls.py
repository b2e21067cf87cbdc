"""TEMPORARY: config.urls plus the account (2FA) pages, until the lead adds them."""

from django.urls import include, path

from complaints.views import account
from config.urls import urlpatterns as _base

urlpatterns = [path("accounts/", include(account.urlpatterns)), *_base]

"""The public side, for customers without an account: the complaint form, tracking,
and the status page where they follow their complaint and write to us.

Access to a complaint's status page is kept in the session (a list of complaint ids),
granted by one of: submitting the complaint, the tracking form (number + the email or
phone used), or the signed link from the acknowledgment email. Every other request
for a complaint gets the same neutral answer or a 404, so nobody learns whether a
tracking number exists. Staff are shown by first name only; internal events,
attachments and fields never reach these pages.

The pages live in submodules: ``forms`` (input validation), ``common`` (rate limits,
session access, the neutral answer), ``submit`` (the complaint form), ``track``
(tracking form and signed links) and ``status`` (the status page, messages, files).
"""

from django.urls import path

from complaints.views.public import status, submit, survey, track
from complaints.views.public.common import (
    LINK_LIMIT,
    MESSAGE_LIMIT,
    NEUTRAL,
    SESSION_KEPT,
    SESSION_KEY,
    SUBMIT_LIMIT,
    TRACK_LIMIT,
    VIEW_LIMIT,
)
from complaints.views.public.forms import MAX_FILES
from complaints.views.public.submit import _TOKEN_RE, HONEYPOT, IDEMPOTENCY_SCOPE

__all__ = [
    "HONEYPOT",
    "IDEMPOTENCY_SCOPE",
    "LINK_LIMIT",
    "MAX_FILES",
    "MESSAGE_LIMIT",
    "NEUTRAL",
    "SESSION_KEPT",
    "SESSION_KEY",
    "SUBMIT_LIMIT",
    "TRACK_LIMIT",
    "VIEW_LIMIT",
    "_TOKEN_RE",
    "urlpatterns",
]

urlpatterns = [
    path("submit/", submit.submit, name="public-submit"),
    path("submit/received/<str:token>/", submit.submitted, name="public-submitted"),
    path("track/", track.track, name="public-track"),
    path("track/status/<str:number>/", status.status, name="public-status"),
    path("track/status/<str:number>/message/", status.message, name="public-message"),
    path(
        "track/status/<str:number>/files/<int:pk>/",
        status.attachment_download,
        name="public-attachment",
    ),
    path("track/<str:token>/", track.track_link, name="public-track-link"),
    path("survey/thanks/", survey.thanks, name="public-survey-thanks"),
    path("survey/<str:token>/", survey.survey, name="public-survey"),
]

"""The satisfaction survey page (满意度回访): the signed link from the resolution
email. Rating 1–5, "was your problem solved?", a comment; then a thank-you page.

Every link that cannot be used (tampered, expired, another handling round, already
answered) gets the same neutral page.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from complaints.errors import ServiceError
from complaints.models.survey import MAX_COMMENT
from complaints.services import survey as survey_services
from complaints.views.public.common import LINK_LIMIT, VIEW_LIMIT, _limited

SURVEY_LIMIT = (10, 10 * 60)  # survey answers posted

RATING_REQUIRED = gettext_lazy("Choose a rating from 1 to 5.")
SOLVED_REQUIRED = gettext_lazy("Tell us whether your problem was solved.")


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=gettext_lazy("How satisfied are you with how we handled your complaint?"),
        choices=[
            (5, gettext_lazy("5 – very satisfied")),
            (4, gettext_lazy("4 – satisfied")),
            (3, gettext_lazy("3 – neutral")),
            (2, gettext_lazy("2 – dissatisfied")),
            (1, gettext_lazy("1 – very dissatisfied")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": RATING_REQUIRED, "invalid_choice": RATING_REQUIRED},
    )
    solved = forms.TypedChoiceField(
        label=gettext_lazy("Was your problem solved?"),
        choices=[("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": SOLVED_REQUIRED, "invalid_choice": SOLVED_REQUIRED},
    )
    comment = forms.CharField(
        label=gettext_lazy("Anything you would like to tell us?"),
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
        help_text=gettext_lazy("Optional. If you are not satisfied, tell us what is still wrong."),
    )


def _in_customer_language(request, complaint) -> None:
    """The visitor's choice (language cookie, browser) wins; without one, the
    language the complaint was made in."""
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or request.META.get(
        "HTTP_ACCEPT_LANGUAGE"
    ):
        return
    lang = complaint.language or complaint.customer.language
    if lang in dict(settings.LANGUAGES):
        translation.activate(lang)
        request.LANGUAGE_CODE = lang


def _invalid(request):
    return render(
        request, "complaints/public/survey_invalid.html", {"message": survey_services.NEUTRAL}
    )


@never_cache
@require_http_methods(["GET", "POST"])
def survey(request, token: str):
    scope, rule = ("link", LINK_LIMIT) if request.method == "GET" else ("survey", SURVEY_LIMIT)
    if response := _limited(request, scope, rule):
        return response
    try:
        complaint = survey_services.survey_check(token)
    except ServiceError:
        return _invalid(request)
    _in_customer_language(request, complaint)
    form = SurveyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            survey_services.survey_submit(
                complaint=complaint,
                rating=form.cleaned_data["rating"],
                solved=form.cleaned_data["solved"],
                comment=form.cleaned_data["comment"],
                cycle=complaint.reopen_count,
            )
        except ServiceError as error:
            if not error.fields:
                return _invalid(request)
            for field, messages in error.fields.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
        else:
            return redirect("complaints:public-survey-thanks")
    return render(
        request,
        "complaints/public/survey.html",
        {"form": form, "complaint": complaint},
        status=400 if form.errors else 200,
    )


@require_GET
def thanks(request):
    if response := _limited(request, "view", VIEW_LIMIT):
        return response
    return render(request, "complaints/public/survey_thanks.html")

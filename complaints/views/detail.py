"""The complaint detail page and the actions on it.

Every view is staff-only and reaches the complaint through
selectors.complaint_get_for_user (404 for missing and forbidden alike); every write
is a POST handled by a service. Every form carries the complaint's version and the
last timeline event the user saw: when someone else changed the complaint since,
nothing is saved and the user is shown what changed (optimistic concurrency; the
services' own version check under the row lock closes the remaining race).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Max
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from complaints import permissions, roles, selectors
from complaints.errors import ComplaintConflict, NotFound, ServiceError
from complaints.forms import (
    AttachmentUploadForm,
    MessageForm,
    ReclassifyForm,
    StaffTransitionForm,
)
from complaints.models import Complaint, ComplaintEvent
from complaints.services import attachments as attachment_services
from complaints.services import inapp, privacy
from complaints.services.editing import complaint_update
from complaints.services.messages import complaint_add_note, complaint_reply
from complaints.services.transitions import complaint_transition
from complaints.views.common import attachment_response, staff_required
from complaints.views.timeline import describe_events, timeline_for
from complaints.workflow import TRANSITIONS

Kind = ComplaintEvent.Kind
REPEAT_WINDOW = timedelta(days=90)
OTHER_COMPLAINTS_SHOWN = 10
# Shown after a conflict: enough to see what happened, bounded.
CHANGES_SHOWN = 20
# Customer-side events: the customer is the author even when an agent typed them in.
# --- Helpers ------------------------------------------------------------------------------------


def _complaint(request, pk: int) -> Complaint:
    try:
        return selectors.complaint_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _detail_url(complaint: Complaint) -> str:
    return reverse("complaints:staff-detail", args=[complaint.pk])


def _done(request, complaint: Complaint, message: str) -> HttpResponse:
    messages.success(request, message)
    if request.htmx:
        return HttpResponseClientRedirect(_detail_url(complaint))
    return redirect(_detail_url(complaint))


def _last_event_id(complaint: Complaint) -> int:
    return complaint.events.aggregate(last=Max("pk"))["last"] or 0


def _stamp(complaint: Complaint, seen: int | None = None) -> dict[str, int]:
    """The hidden fields of every form: what the user is looking at."""
    return {
        "version": complaint.version,
        "seen": _last_event_id(complaint) if seen is None else seen,
    }


def _stale(request, complaint: Complaint, form, *, others_wrote: bool = False) -> bool:
    """Whether the complaint changed since the user loaded the form.

    With others_wrote, any timeline event by someone else counts too: replies and
    notes add events without changing the complaint's version.
    """
    if form.cleaned_data["version"] != complaint.version:
        return True
    if others_wrote:
        return (
            complaint.events.filter(pk__gt=form.cleaned_data["seen"])
            .exclude(actor=request.user)
            .exists()
        )
    return False


def _conflict(complaint: Complaint, seen: int | None, message: str) -> dict[str, Any]:
    """What the user must see before trying again: the status now and the events since."""
    events = (
        complaint.events.select_related("actor")
        .prefetch_related("attachments")
        .filter(pk__gt=seen or 0)
        .order_by("created_at", "pk")[:CHANGES_SHOWN]
    )
    return {
        "message": message,
        "complaint": complaint,
        "events": describe_events(list(events), complaint),
    }


def _refreshed(request, complaint: Complaint):
    """The posted data with the current version: after seeing the changes the user may
    send the same thing again (the text typed is kept)."""
    data = request.POST.copy()
    for key, value in _stamp(complaint).items():
        data[key] = str(value)
    return data


def _error_reasons(err: ServiceError) -> list[str]:
    return [err.message, *err.reasons]


# --- The page -----------------------------------------------------------------------------------


def _actions(request, complaint: Complaint, stamp: dict[str, int]) -> list[dict[str, Any]]:
    """One button per transition the state machine offers this user."""
    user = request.user
    query = urlencode(stamp)
    actions = []
    for rule in selectors.complaint_available_transitions(complaint=complaint, user=user):
        url = reverse("complaints:staff-transition", args=[complaint.pk, rule.name])
        claim = rule.name == "assign" and not roles.is_supervisor(user)
        actions.append(
            {
                "rule": rule,
                "url": url,
                "form_url": f"{url}?{query}",
                "claim": claim,
                # Nothing to ask: the button posts at once.
                "direct": claim or not rule.inputs,
                "label": _("Claim") if claim else rule.label,
            }
        )
    return actions


def _customer_card(request, complaint: Complaint) -> dict[str, Any]:
    others = list(
        selectors.complaints_visible_to(request.user)
        .filter(customer_id=complaint.customer_id)
        .exclude(pk=complaint.pk)
        .order_by("-received_at")[: OTHER_COMPLAINTS_SHOWN + 1]
    )
    since = timezone.now() - REPEAT_WINDOW
    card = {
        "customer": complaint.customer,
        "other_complaints": others[:OTHER_COMPLAINTS_SHOWN],
        "more_other_complaints": len(others) > OTHER_COMPLAINTS_SHOWN,
        "repeat_complainer": any(c.received_at >= since for c in others),
    }
    # Who saw a customer's full contact details is logged (personal data).
    privacy.customer_card_viewed(
        actor=request.user, customer=complaint.customer, complaint=complaint, request=request
    )
    return card


def _triage_proposal(complaint: Complaint):
    """The proposal fetched with the complaint (complaint_get_for_user), or None."""
    try:
        return complaint.triage_proposal
    except ObjectDoesNotExist:
        return None


def _page(request, complaint: Complaint, *, status: int = 200, **extra: Any) -> HttpResponse:
    """The whole detail page; `extra` replaces forms (bound, with errors) or adds a conflict."""
    user = request.user
    others = extra.pop("others_viewing", None)
    if others is None:
        others = inapp.presence_others(complaint=complaint, user=user)
    events = timeline_for(complaint)
    stamp = _stamp(complaint, seen=max((e.pk for e in events), default=0))
    can_edit = permissions.can_edit_complaint(user, complaint)
    context = {
        "complaint": complaint,
        "category_path": complaint.category.full_name if complaint.category_id else "",
        "events": events,
        "stamp": stamp,
        "actions": _actions(request, complaint, stamp),
        "can_edit": can_edit,
        "message_form": MessageForm(initial=stamp),
        "upload_form": AttachmentUploadForm(initial=stamp),
        "reclassify_form": (
            ReclassifyForm(initial=stamp, complaint=complaint) if can_edit else None
        ),
        "others_viewing": others,
        "triage_proposal": _triage_proposal(complaint),
        **_customer_card(request, complaint),
        **extra,
    }
    return render(request, "complaints/staff/detail.html", context, status=status)


@staff_required
@require_GET
def detail(request, pk: int):
    complaint = _complaint(request, pk)
    others = inapp.presence_visit(complaint=complaint, user=request.user)
    return _page(request, complaint, others_viewing=others)


# --- Transitions ----------------------------------------------------------------------------------


def _transition_response(
    request,
    complaint: Complaint,
    form: StaffTransitionForm,
    *,
    status: int = 200,
    error: ServiceError | None = None,
    conflict: dict | None = None,
) -> HttpResponse:
    rule = form.rule
    context = {
        "complaint": complaint,
        "rule": rule,
        "form": form,
        "action_url": reverse("complaints:staff-transition", args=[complaint.pk, rule.name]),
        "detail_url": _detail_url(complaint),
        "in_modal": bool(request.htmx),
        "error": error,
        "conflict": conflict,
    }
    if request.htmx:
        response = render(
            request, "complaints/staff/_detail_transition_form.html", context, status=status
        )
        if status >= 400:
            # Show the refusal in the modal (static/js/app.js lets these 4xx swap).
            response["HX-Retarget"] = "#action-modal-content"
            response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "complaints/staff/detail_transition.html", context, status=status)


def _initial_stamp(request, complaint: Complaint) -> dict[str, int]:
    """The version and last event of the page the button was on (not the current ones:
    a change made while the form is open must still be noticed)."""
    stamp = {}
    for key in ("version", "seen"):
        value = request.GET.get(key, "")
        if value.isdigit():
            stamp[key] = int(value)
    return stamp if len(stamp) == 2 else _stamp(complaint)


@staff_required
@require_http_methods(["GET", "POST"])
def transition(request, pk: int, name: str):
    """GET: the form asking the transition's inputs. POST: apply it through the service."""
    complaint = _complaint(request, pk)
    rule = TRANSITIONS.get(name)
    if rule is None:
        raise Http404
    user = request.user
    if request.method == "GET":
        form = StaffTransitionForm(
            initial=_initial_stamp(request, complaint), rule=rule, complaint=complaint, actor=user
        )
        offered = any(
            r.name == name
            for r in selectors.complaint_available_transitions(complaint=complaint, user=user)
        )
        if not offered:
            error = ServiceError(
                _("“%(action)s” is not possible on this complaint now, or not for you.")
                % {"action": rule.label}
            )
            return _transition_response(request, complaint, form, status=409, error=error)
        return _transition_response(request, complaint, form)

    form = StaffTransitionForm(request.POST, rule=rule, complaint=complaint, actor=user)
    if not form.is_valid():
        return _transition_response(request, complaint, form, status=400)
    try:
        if _stale(request, complaint, form):
            raise ComplaintConflict()
        complaint_transition(complaint=complaint, actor=user, name=name, **form.service_inputs())
    except NotFound:
        raise Http404 from None
    except ComplaintConflict:
        complaint = _complaint(request, pk)
        conflict = _conflict(
            complaint,
            form.cleaned_data["seen"],
            _(
                "This complaint was changed by someone else since you opened it. Nothing was "
                "saved. Check what changed, then confirm again if it still applies."
            ),
        )
        # The current version: confirming again after reading the changes goes through.
        fresh = StaffTransitionForm(
            _refreshed(request, complaint), rule=rule, complaint=complaint, actor=user
        )
        fresh.is_valid()
        return _transition_response(request, complaint, fresh, status=409, conflict=conflict)
    except ServiceError as err:
        complaint = _complaint(request, pk)
        return _transition_response(request, complaint, form, status=err.status_code, error=err)
    return _done(
        request,
        complaint,
        _("“%(action)s” done: %(number)s is now “%(status)s”.")
        % {
            "action": _("Claim") if form.is_claim else rule.label,
            "number": complaint.tracking_number,
            "status": complaint.get_status_display(),
        },
    )


# --- Replies, notes, attachments, reclassification ---------------------------------------------


def _page_write(request, pk: int, *, key: str, make_form, write, others_wrote=False, stale=""):
    """A form of the page: validate it, refuse it if the complaint changed since the page
    was loaded, run `write(complaint, form)` (services) in one transaction and go back to
    the page with its message; or show the page again with the form and why."""
    complaint = _complaint(request, pk)
    form = make_form(complaint, request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, complaint, status=400, **{key: form})
    try:
        if _stale(request, complaint, form, others_wrote=others_wrote):
            raise ComplaintConflict()
        with transaction.atomic():
            message = write(complaint, form)
    except NotFound:
        raise Http404 from None
    except ComplaintConflict:
        complaint = _complaint(request, pk)
        fresh = make_form(complaint, _refreshed(request, complaint), None)
        fresh.is_valid()
        if "files" in fresh.fields:
            # Browsers cannot send files again by themselves.
            fresh.errors.pop("files", None)
            if form.cleaned_data.get("files"):
                fresh.add_error("files", _("Choose the files again."))
        text = stale or _(
            "This complaint was changed by someone else since you opened it: nothing was "
            "saved. Read what changed below, then try again if it still applies."
        )
        conflict = _conflict(complaint, form.cleaned_data["seen"], text)
        return _page(request, complaint, status=409, conflict=conflict, **{key: fresh})
    except ServiceError as err:
        # Rolled back: read the complaint again (a service may have changed the copy).
        complaint = _complaint(request, pk)
        form.add_error("files" if key == "upload_form" else None, _error_reasons(err))
        return _page(request, complaint, status=err.status_code, **{key: form})
    return _done(request, complaint, message)


def _store_files(complaint: Complaint, user: Any, files: list, *, internal: bool, event=None):
    """attachment_add for each file; the caller's transaction rolls the rows back on a
    refusal, and this removes the files already written."""
    stored = []
    try:
        for upload in files:
            stored.append(
                attachment_services.attachment_add(
                    complaint=complaint, actor=user, upload=upload, internal=internal, event=event
                )
            )
    except ServiceError:
        for attachment in stored:
            attachment.file.delete(save=False)
        raise
    return stored


def _message_form(complaint: Complaint, data, files) -> MessageForm:
    return MessageForm(data, files)


@staff_required
@require_POST
def reply(request, pk: int):
    def write(complaint: Complaint, form: MessageForm) -> str:
        body = form.cleaned_data["body"]
        event = complaint_reply(complaint=complaint, actor=request.user, body=body)
        _store_files(
            complaint, request.user, form.cleaned_data["files"], internal=False, event=event
        )
        if not complaint.customer.email:
            return _("Reply recorded. The customer has no email address: tell them another way.")
        return _("Reply sent to the customer.")

    # Replies and notes do not change the version: a colleague's reply must stop this one.
    return _page_write(
        request,
        pk,
        key="message_form",
        make_form=_message_form,
        write=write,
        others_wrote=True,
        stale=_(
            "Someone else replied or changed this complaint since you opened it: your reply "
            "was NOT sent. Read what changed below, then send it again if it still applies."
        ),
    )


@staff_required
@require_POST
def note(request, pk: int):
    def write(complaint: Complaint, form: MessageForm) -> str:
        body = form.cleaned_data["body"]
        event = complaint_add_note(complaint=complaint, actor=request.user, body=body)
        _store_files(
            complaint, request.user, form.cleaned_data["files"], internal=True, event=event
        )
        return _("Internal note added.")

    return _page_write(request, pk, key="message_form", make_form=_message_form, write=write)


@staff_required
@require_POST
def attachment_upload(request, pk: int):
    def write(complaint: Complaint, form: AttachmentUploadForm) -> str:
        files = form.cleaned_data["files"]
        internal = not form.cleaned_data["visible_to_customer"]
        _store_files(complaint, request.user, files, internal=internal)
        return ngettext("%(count)d file attached.", "%(count)d files attached.", len(files)) % {
            "count": len(files)
        }

    return _page_write(
        request,
        pk,
        key="upload_form",
        make_form=lambda complaint, data, files: AttachmentUploadForm(data, files),
        write=write,
    )


@staff_required
@require_GET
def attachment_download(request, pk: int):
    try:
        attachment = attachment_services.attachment_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    return attachment_response(attachment)


@staff_required
@require_POST
def reclassify(request, pk: int):
    def write(complaint: Complaint, form: ReclassifyForm) -> str:
        changed = complaint_update(
            complaint=complaint,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            **form.changes(),
        )
        return _("Classification changed.") if changed else _("Nothing was changed.")

    return _page_write(
        request,
        pk,
        key="reclassify_form",
        make_form=lambda complaint, data, files: ReclassifyForm(data, complaint=complaint),
        write=write,
    )


@staff_required
@require_POST
def presence(request, pk: int):
    """Polled by the open page: "I am still here", and who else is."""
    complaint = _complaint(request, pk)
    inapp.presence_touch(complaint=complaint, user=request.user)
    seen_version = request.POST.get("version", "")
    context = {
        "complaint": complaint,
        "others_viewing": inapp.presence_others(complaint=complaint, user=request.user),
        "changed_since": seen_version.isdigit() and int(seen_version) != complaint.version,
    }
    return render(request, "complaints/staff/_detail_presence.html", context)


urlpatterns = [
    path("complaints/<int:pk>/", detail, name="staff-detail"),
    path("complaints/<int:pk>/transition/<slug:name>/", transition, name="staff-transition"),
    path("complaints/<int:pk>/reply/", reply, name="staff-reply"),
    path("complaints/<int:pk>/note/", note, name="staff-note"),
    path("complaints/<int:pk>/attachments/", attachment_upload, name="staff-attachment-upload"),
    path(
        "complaints/attachments/<int:pk>/",
        attachment_download,
        name="staff-attachment-download",
    ),
    path("complaints/<int:pk>/reclassify/", reclassify, name="staff-reclassify"),
    path("complaints/<int:pk>/presence/", presence, name="staff-presence"),
]

"""Workbench screens around the queues: recording phone and in-store complaints,
notifications, workload, bulk actions and saved filters."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from complaints import permissions, roles, selectors
from complaints.contacts import normalize_email, normalize_phone
from complaints.errors import NotFound, ServiceError
from complaints.filters import ComplaintFilter
from complaints.forms import CategoryChoiceField
from complaints.models import (
    Category,
    Channel,
    Complaint,
    Customer,
    Demand,
    Notification,
    Priority,
    Product,
    SavedFilter,
    Team,
    TeamMembership,
    User,
)
from complaints.services import bulk, inapp, intake
from complaints.views.common import staff_required
from complaints.workflow import OPEN_STATES, OWNED_STATES, TRANSITIONS

# --- Recording a phone or in-store complaint ---------------------------------------------

_TOKENS = "workbench_record_tokens"  # session: {one-time form token: complaint pk or 0}
_TOKENS_KEPT = 20  # open record forms remembered per session
_MIN_PHONE_DIGITS = 6


def _bootstrap(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.RadioSelect | forms.HiddenInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


class RecordComplaintForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput)
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=[(c.value, c.label) for c in (Channel.PHONE, Channel.IN_STORE)],
        initial=Channel.PHONE,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    customer_name = forms.CharField(
        label=gettext_lazy("Customer name"), max_length=200, required=False
    )
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32, required=False)
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    order_number = forms.CharField(
        label=gettext_lazy("Order number"), max_length=64, required=False
    )
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"),
        required=False,
        queryset=Product.objects.filter(is_active=True),
    )
    category = CategoryChoiceField(
        label=gettext_lazy("Category"),
        required=False,
        queryset=Category.objects.filter(is_active=True),
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("What happened"), widget=forms.Textarea(attrs={"rows": 5})
    )
    demand = forms.ChoiceField(label=gettext_lazy("Customer demand"), choices=Demand.choices)
    demand_detail = forms.CharField(
        label=gettext_lazy("Demand details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _bootstrap(self)
        # As the agent types, show the customer's other open complaints (htmx).
        lookup = {
            "hx-get": reverse("complaints:staff-record-lookup"),
            "hx-trigger": "input changed delay:500ms, change",
            "hx-target": "#customer-matches",
            "hx-include": "#id_phone, #id_email",
            "autocomplete": "off",
        }
        self.fields["phone"].widget.attrs.update({**lookup, "type": "tel"})
        self.fields["email"].widget.attrs.update(lookup)

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and sum(ch.isdigit() for ch in phone) < _MIN_PHONE_DIGITS:
            raise forms.ValidationError(
                _("Enter the whole phone number (at least %(count)d digits).")
                % {"count": _MIN_PHONE_DIGITS}
            )
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "phone" in self.errors or "email" in self.errors:
            return data
        if not data.get("phone") and not data.get("email"):
            raise forms.ValidationError(
                _(
                    "Enter the customer's phone number or email address (at least one): "
                    "we need it to reach the customer and to recognise them next time."
                ),
                code="no_contact",
            )
        return data


def _issue_token(request) -> str:
    tokens = dict(request.session.get(_TOKENS, {}))
    token = secrets.token_urlsafe(16)
    tokens[token] = 0
    while len(tokens) > _TOKENS_KEPT:
        tokens.pop(next(iter(tokens)))
    request.session[_TOKENS] = tokens
    return token


def _contact_matches(user: Any, phone: str, email: str) -> dict[str, Any] | None:
    """The known customers with this phone or email and their open complaints that
    `user` may see; None when nothing usable was typed yet."""
    phone_n = normalize_phone(phone) if sum(c.isdigit() for c in phone) >= _MIN_PHONE_DIGITS else ""
    email_n = normalize_email(email) if "@" in email else ""
    condition = Q()
    if phone_n:
        condition |= Q(phone=phone_n)
    if email_n:
        condition |= Q(email=email_n)
    if not condition:
        return None
    customers = list(Customer.objects.filter(condition).order_by("pk")[:5])
    complaints = (
        selectors.complaints_visible_to(user)
        .filter(customer__in=customers, status__in=list(OPEN_STATES))
        .select_related("customer", "priority", "assignee")
        .order_by("-received_at")[:20]
        if customers
        else []
    )
    return {"customers": customers, "complaints": list(complaints)}


def _already_recorded(request, pk: int):
    try:
        complaint = selectors.complaint_get_for_user(user=request.user, pk=pk)
    except NotFound:
        messages.info(request, _("This form was already submitted; nothing was recorded twice."))
        return redirect("complaints:staff-home")
    messages.info(
        request,
        _("This complaint was already recorded as %(number)s; it was not recorded twice.")
        % {"number": complaint.tracking_number},
    )
    return redirect("complaints:staff-detail", pk=complaint.pk)


def _create_once(request, form: RecordComplaintForm) -> tuple[int, bool]:
    """(complaint pk, created now). A token already used returns its complaint."""
    data, token = form.cleaned_data, form.cleaned_data["form_token"]
    with transaction.atomic():
        # Serialise this user's submissions (a row lock on PostgreSQL; SQLite's
        # IMMEDIATE transactions serialise writers anyway), then read the tokens as
        # stored: a double click's second request waits here and finds the first's.
        list(User.objects.select_for_update().filter(pk=request.user.pk).values_list("pk"))
        stored = type(request.session)(request.session.session_key).get(_TOKENS, {})
        if stored.get(token):
            return stored[token], False
        customer = intake.customer_find_or_create(
            name=data["customer_name"], phone=data["phone"], email=data["email"]
        )
        complaint = intake.complaint_create(
            actor=request.user,
            channel=data["channel"],
            customer=customer,
            title=data["title"],
            description=data["description"],
            demand=data["demand"],
            demand_detail=data["demand_detail"],
            order_number=data["order_number"],
            product=data["product"],
            category=data["category"],
        )
        tokens = {**request.session.get(_TOKENS, {}), **stored, token: complaint.pk}
        request.session[_TOKENS] = tokens
        # Saved inside the transaction, so the waiting request sees it when it gets the lock.
        request.session.save()
    return complaint.pk, True


@staff_required
@require_http_methods(["GET", "POST"])
def record(request):
    if request.method == "POST":
        token = request.POST.get("form_token", "")
        tokens = request.session.get(_TOKENS, {})
        if tokens.get(token):
            return _already_recorded(request, tokens[token])
        form = RecordComplaintForm(request.POST)
        if token not in tokens:
            messages.warning(
                request,
                _("This form had expired. Check the details and record the complaint again."),
            )
            form = RecordComplaintForm({**request.POST.dict(), "form_token": _issue_token(request)})
        elif form.is_valid():
            try:
                pk, created = _create_once(request, form)
            except ServiceError as err:
                form.add_error(None, str(err))
            else:
                if not created:
                    return _already_recorded(request, pk)
                complaint = Complaint.objects.only("tracking_number").get(pk=pk)
                messages.success(
                    request,
                    _("Complaint %(number)s recorded. Give the customer this tracking number.")
                    % {"number": complaint.tracking_number},
                )
                return redirect("complaints:staff-detail", pk=pk)
        matches = _contact_matches(
            request.user, request.POST.get("phone", ""), request.POST.get("email", "")
        )
    else:
        form = RecordComplaintForm(
            initial={"form_token": _issue_token(request), "channel": Channel.PHONE}
        )
        matches = None
    return render(
        request, "complaints/staff/workbench_record.html", {"form": form, "matches": matches}
    )


@staff_required
@require_GET
def record_lookup(request):
    matches = _contact_matches(
        request.user, request.GET.get("phone", "")[:64], request.GET.get("email", "")[:254]
    )
    return render(
        request, "complaints/staff/_workbench_customer_matches.html", {"matches": matches}
    )


# --- Notifications ------------------------------------------------------------------------


@staff_required
@require_GET
def notifications(request):
    rows = Notification.objects.filter(user=request.user).select_related("complaint")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    context = {"page": page, "unread": inapp.unread_count(request.user)}
    return render(request, "complaints/staff/workbench_notifications.html", context)


@staff_required
@require_POST
def notifications_read_all(request):
    count = inapp.notifications_mark_read(user=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)d notification marked as read.",
            "%(count)d notifications marked as read.",
            count,
        )
        % {"count": count},
    )
    return redirect("complaints:staff-notifications")


@staff_required
@require_http_methods(["GET", "POST"])
def notification_open(request, pk: int):
    """Mark one notification read and go to its complaint (a link in the list)."""
    notification = get_object_or_404(
        Notification.objects.select_related("complaint"), pk=pk, user=request.user
    )
    inapp.notifications_mark_read(user=request.user, ids=[notification.pk])
    complaint = notification.complaint
    if complaint is None:
        return redirect("complaints:staff-notifications")
    if not permissions.can_view_complaint(request.user, complaint):
        messages.info(request, _("You can no longer see this complaint."))
        return redirect("complaints:staff-notifications")
    return redirect("complaints:staff-detail", pk=complaint.pk)


# --- Workload (supervisors) -------------------------------------------------------------


def _workload(now) -> tuple[list[Priority], list[dict[str, Any]]]:
    """Per active front-line team, one row per active member with the open complaints
    they own (in any team, as least-loaded assignment counts them) by priority, and
    how many are overdue. Four queries whatever the number of complaints."""
    priorities = list(Priority.objects.order_by("level"))
    teams = list(Team.objects.filter(is_active=True, kind=Team.Kind.FRONT_LINE).order_by("name"))
    memberships = list(
        TeamMembership.objects.filter(team__in=teams, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    per_priority = {f"p{p.pk}": Count("pk", filter=Q(priority_id=p.pk)) for p in priorities}
    loads = {
        row["assignee_id"]: row
        for row in Complaint.objects.filter(
            status__in=list(OWNED_STATES),
            assignee_id__in=TeamMembership.objects.filter(team__in=teams).values("user_id"),
        )
        .values("assignee_id")
        .annotate(
            total=Count("pk"),
            overdue=Count("pk", filter=Q(resolution_due_at__lt=now)),
            **per_priority,
        )
        .order_by()
    }
    result = []
    for team in teams:
        members = []
        for m in memberships:
            if m.team_id != team.pk:
                continue
            load = loads.get(m.user_id, {})
            members.append(
                {
                    "user": m.user,
                    "by_priority": [load.get(f"p{p.pk}", 0) for p in priorities],
                    "total": load.get("total", 0),
                    "overdue": load.get("overdue", 0),
                    "is_away": m.user.is_away,
                }
            )
        totals = {
            "by_priority": [
                sum(r["by_priority"][i] for r in members) for i in range(len(priorities))
            ],
            "total": sum(r["total"] for r in members),
            "overdue": sum(r["overdue"] for r in members),
        }
        result.append({"team": team, "members": members, "totals": totals})
    return priorities, result


@staff_required
@require_GET
def workload(request):
    if not roles.is_supervisor(request.user):
        raise PermissionDenied
    priorities, teams = _workload(timezone.now())
    owned = "&".join(f"status={s}" for s in sorted(OWNED_STATES))
    context = {"priorities": priorities, "teams": teams, "owned_query": owned}
    return render(request, "complaints/staff/workbench_workload.html", context)


# --- Bulk actions -------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkAction:
    label: Promise
    needs: tuple[str, ...] = ()
    supervisors_only: bool = False


# The keys are the values of the select in _bulk_actions.html.
BULK_ACTIONS: dict[str, BulkAction] = {
    "claim": BulkAction(gettext_lazy("Claim for myself")),
    "assign": BulkAction(gettext_lazy("Assign to…"), ("assignee",), supervisors_only=True),
    "start": BulkAction(TRANSITIONS["start"].label),
    "release": BulkAction(TRANSITIONS["release"].label, ("reason",)),
    "close": BulkAction(TRANSITIONS["close"].label, ("reason",)),
    "reopen": BulkAction(TRANSITIONS["reopen"].label, ("reason",)),
    "reject": BulkAction(TRANSITIONS["reject"].label, ("reason", "recourse"), True),
}


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Action"))
    assignee = forms.ModelChoiceField(
        label=gettext_lazy("Assignee"), required=False, queryset=User.objects.filter(is_active=True)
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=2000)
    recourse = forms.CharField(
        label=gettext_lazy("Recourse offered"), required=False, max_length=2000
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        supervisor = roles.is_supervisor(actor)
        self.fields["action"].choices = [
            (key, a.label)
            for key, a in BULK_ACTIONS.items()
            if supervisor or not a.supervisors_only
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = BULK_ACTIONS.get(data.get("action") or "")
        for name in action.needs if action else ():
            if not data.get(name) and name not in self.errors:
                self.add_error(name, _("“%(action)s” needs this.") % {"action": action.label})
        return data

    def run(self, *, actor: Any, ids: list[str]) -> list[bulk.BulkResult]:
        data = self.cleaned_data
        name = data["action"]
        if name == "claim":
            return bulk.complaints_bulk_claim(actor=actor, complaint_ids=ids)
        if name == "assign":
            return bulk.complaints_bulk_assign(
                actor=actor, complaint_ids=ids, assignee=data["assignee"]
            )
        inputs = {field: data[field] for field in BULK_ACTIONS[name].needs}
        return bulk.complaints_bulk_transition(actor=actor, complaint_ids=ids, name=name, **inputs)


def _form_errors(form: forms.Form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        text = " ".join(str(e) for e in errors)
        parts.append(
            _("%(field)s: %(errors)s") % {"field": label, "errors": text} if label else text
        )
    return " ".join(parts)


def _back(request) -> str:
    """Where the form came from (a queue page), if it is ours."""
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("complaints:staff-home")


@staff_required
@require_POST
def bulk_action(request):
    back = _back(request)
    ids = request.POST.getlist("ids")
    if not ids:
        messages.error(request, _("Select at least one complaint."))
        return redirect(back)
    form = BulkActionForm(request.POST, actor=request.user)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(back)
    try:
        results = form.run(actor=request.user, ids=ids)
    except ServiceError as err:
        messages.error(request, str(err))
        return redirect(back)
    context = {
        "action": BULK_ACTIONS[form.cleaned_data["action"]],
        "results": results,
        "done": sum(1 for r in results if r.ok),
        "back": back,
    }
    return render(request, "complaints/staff/workbench_bulk_result.html", context)


@staff_required
@require_GET
def bulk_assignees(request):
    """The "assign to" select of the bulk actions, by team (loaded by htmx)."""
    if not roles.is_supervisor(request.user):
        raise PermissionDenied
    memberships = (
        TeamMembership.objects.filter(
            team__is_active=True, team__kind=Team.Kind.FRONT_LINE, user__is_active=True
        )
        .select_related("team", "user")
        .order_by("team__name", "user__username")
    )
    teams: dict[Team, list[User]] = {}
    for m in memberships:
        teams.setdefault(m.team, []).append(m.user)
    return render(request, "complaints/staff/_workbench_assignee_select.html", {"teams": teams})


# --- Saved filters --------------------------------------------------------------------------

MAX_SAVED_FILTERS = 50
_FILTER_KEYS = frozenset(ComplaintFilter.base_filters)


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    queue = forms.CharField(max_length=30)
    query = forms.CharField(required=False, max_length=8000)

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if SavedFilter.objects.filter(user=self.user, name=name).exists():
            raise forms.ValidationError(
                _("You already have a saved filter called “%(name)s”. Choose another name.")
                % {"name": name}
            )
        return name

    def clean_queue(self) -> str:
        slug = self.cleaned_data["queue"]
        if slug not in {q.slug for q in selectors.queues_for(self.user)}:
            raise forms.ValidationError(_("Unknown queue."))
        return slug

    def clean_query(self) -> str:
        """Only the queue filters' own parameters, without empty ones (no page number)."""
        given = QueryDict(self.cleaned_data["query"].lstrip("?"))
        kept = QueryDict(mutable=True)
        for key in given:
            values = [v for v in given.getlist(key) if v.strip()]
            if key in _FILTER_KEYS and values:
                kept.setlist(key, values)
        query = kept.urlencode()
        if len(query) > SavedFilter._meta.get_field("query").max_length:
            raise forms.ValidationError(_("This filter is too long to save."))
        return query

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if SavedFilter.objects.filter(user=self.user).count() >= MAX_SAVED_FILTERS:
            raise forms.ValidationError(
                _("You have %(count)d saved filters, the most allowed. Delete one first.")
                % {"count": MAX_SAVED_FILTERS}
            )
        return data


def _queue_url(slug: str, query: str = "") -> str:
    if slug not in selectors.QUEUES_BY_SLUG:
        return reverse("complaints:staff-home")
    url = reverse("complaints:staff-queue", args=[slug])
    return f"{url}?{query}" if query else url


@staff_required
@require_POST
def saved_filter_create(request):
    form = SavedFilterForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                SavedFilter.objects.create(
                    user=request.user, name=data["name"], queue=data["queue"], query=data["query"]
                )
        except IntegrityError:
            # The same name saved a moment ago (another tab): the unique constraint wins.
            messages.error(
                request,
                _("You already have a saved filter called “%(name)s”. Choose another name.")
                % {"name": data["name"]},
            )
        else:
            messages.success(request, _("Filter “%(name)s” saved.") % {"name": data["name"]})
        return redirect(_queue_url(data["queue"], data["query"]))
    messages.error(request, _form_errors(form))
    query = form.cleaned_data.get("query", "")
    return redirect(_queue_url(request.POST.get("queue", ""), query))


@staff_required
@require_POST
def saved_filter_delete(request, pk: int):
    saved = get_object_or_404(SavedFilter, pk=pk, user=request.user)
    saved.delete()
    messages.success(request, _("Filter “%(name)s” deleted.") % {"name": saved.name})
    return redirect(_queue_url(saved.queue))


urlpatterns = [
    path("complaints/new/", record, name="staff-record"),
    path("complaints/new/lookup/", record_lookup, name="staff-record-lookup"),
    path("notifications/", notifications, name="staff-notifications"),
    path("notifications/read/", notifications_read_all, name="staff-notifications-read"),
    path("notifications/<int:pk>/open/", notification_open, name="staff-notification-open"),
    path("workload/", workload, name="staff-workload"),
    path("bulk/", bulk_action, name="staff-bulk"),
    path("bulk/assignees/", bulk_assignees, name="staff-bulk-assignees"),
    path("saved-filters/", saved_filter_create, name="staff-saved-filter-create"),
    path("saved-filters/<int:pk>/delete/", saved_filter_delete, name="staff-saved-filter-delete"),
]

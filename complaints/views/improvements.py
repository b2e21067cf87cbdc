"""Improvement actions (纠正预防措施): the list, the detail page, the create form
(from a complaint or from a queue selection), linking complaints from the complaint
detail panel (templates/complaints/improvements/_panel.html) and the status forms.

Thin views: validate, call complaints.services.improvements, go back with a message.
What the user may not see is a 404, like a missing row.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import BooleanField, Case, Count, Q, Value, When
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from complaints import selectors
from complaints.errors import NotFound, ServiceError
from complaints.models import ImprovementAction
from complaints.services import improvements as services
from complaints.views.common import staff_required

PAGE_SIZE = 50
# As many as the queue's bulk bar sends at once.
MAX_COMPLAINTS = 200
DEFAULT_DUE_DAYS = 30
Status = ImprovementAction.Status


# --- Forms ----------------------------------------------------------------------------------


class ImprovementForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=services.TITLE_MAX)
    problem = forms.CharField(
        label=gettext_lazy("Problem statement"),
        max_length=services.TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    owner_team = forms.ModelChoiceField(
        label=gettext_lazy("Owner team"), queryset=services.owner_teams()
    )
    due_date = forms.DateField(
        label=gettext_lazy("Due date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    notify_customers = forms.BooleanField(
        label=gettext_lazy("Tell the customers when it is done"), required=False
    )
    customer_message = forms.CharField(
        label=gettext_lazy("Message to the customers"),
        max_length=services.TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "Placeholders: {customer_name}, {tracking_number}, {title} (the complaint’s "
            "title), {action} (this action’s title). Empty: a standard message."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            css = "form-check-input" if name == "notify_customers" else "form-control"
            if name == "owner_team":
                css = "form-select"
            field.widget.attrs.setdefault("class", css)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    outcome = forms.CharField(max_length=services.TEXT_MAX, required=False, strip=True)
    reason = forms.CharField(max_length=services.TEXT_MAX, required=False, strip=True)


# --- Helpers --------------------------------------------------------------------------------


def _back(request, default: str) -> HttpResponseRedirect:
    """Back to the page the form was on (`next`, same site only), else `default`."""
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return HttpResponseRedirect(target)


def _action(request, pk) -> ImprovementAction:
    try:
        return services.improvement_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _complaint(request, pk):
    try:
        return selectors.complaint_get_for_user(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _complaints_from(request, values: list[str]) -> list:
    """The complaints named by id, each visible to the user: 404 otherwise."""
    ids = []
    for value in values:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise Http404 from None
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_COMPLAINTS:
        raise Http404
    found = {
        c.pk: c
        for c in selectors.complaints_visible_to(request.user)
        .filter(pk__in=ids)
        .select_related("customer")
    }
    if len(found) != len(ids):
        raise Http404
    return [found[pk] for pk in ids]


def _require_create(request) -> None:
    if not services.can_create(request.user):
        raise PermissionDenied


def _detail_url(action: ImprovementAction) -> str:
    return reverse("complaints:improvement-detail", args=[action.pk])


# --- List and detail -----------------------------------------------------------------------


@staff_required
@require_GET
def improvement_list(request):
    """Visible actions, the earliest due first; overdue ones highlighted."""
    today = services.today()
    overdue = Q(status__in=services.OPEN_STATUSES, due_date__lt=today)
    actions = (
        services.improvements_visible_to(request.user)
        .select_related("owner_team", "created_by")
        .annotate(
            linked_count=Count("complaints", distinct=True),
            is_overdue=Case(
                When(overdue, then=Value(True)), default=False, output_field=BooleanField()
            ),
        )
        .order_by("due_date", "pk")
    )
    status = request.GET.get("status", "")
    if status in Status.values:
        actions = actions.filter(status=status)
    else:
        status = ""
    teams = list(services.owner_teams())
    team = request.GET.get("team", "")
    if team.isdigit() and int(team) in {t.pk for t in teams}:
        actions = actions.filter(owner_team_id=int(team))
    else:
        team = ""
    only_overdue = request.GET.get("overdue") == "1"
    if only_overdue:
        actions = actions.filter(overdue)
    page = Paginator(actions, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "statuses": Status.choices,
        "teams": teams,
        "current_status": status,
        "current_team": team,
        "only_overdue": only_overdue,
        "can_create": services.can_create(request.user),
    }
    return render(request, "complaints/improvements/list.html", context)


@staff_required
@require_GET
def improvement_detail(request, pk: int):
    action = _action(request, pk)
    visible = list(
        selectors.complaints_visible_to(request.user)
        .filter(improvement_actions=action)
        .select_related("customer", "team")
        .order_by("pk")
    )
    total = action.complaints.count()
    allowed = services.allowed_statuses(request.user, action)
    context = {
        "action": action,
        "complaints": visible,
        "hidden_count": total - len(visible),
        "changes": services.status_changes(action),
        "allowed": allowed,
        "status_labels": dict(Status.choices),
        "can_unlink": services.can_create(request.user) and action.status in services.OPEN_STATUSES,
        "is_overdue": action.status in services.OPEN_STATUSES
        and action.due_date < services.today(),
        "text_max": services.TEXT_MAX,
    }
    return render(request, "complaints/improvements/detail.html", context)


# --- Create ----------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def improvement_create(request):
    """GET ?complaint=<id>&complaint=<id>: the form, prefilled with those complaints.
    POST: create the action linked to them."""
    _require_create(request)
    source = request.POST if request.method == "POST" else request.GET
    complaints = _complaints_from(request, source.getlist("complaint"))
    if request.method == "POST":
        form = ImprovementForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                action = services.improvement_create(
                    actor=request.user,
                    title=data["title"],
                    problem=data["problem"],
                    owner_team=data["owner_team"],
                    due_date=data["due_date"],
                    complaints=complaints,
                    notify_customers=data["notify_customers"],
                    customer_message=data["customer_message"],
                )
            except NotFound:
                raise Http404 from None
            except ServiceError as err:
                for field, errors in err.fields.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
                if not err.fields:
                    form.add_error(None, err.message)
            else:
                messages.success(
                    request, _("Improvement action “%(title)s” created.") % {"title": action.title}
                )
                return HttpResponseRedirect(_detail_url(action))
    else:
        initial = {"due_date": services.today() + timedelta(days=DEFAULT_DUE_DAYS)}
        if len(complaints) == 1:
            initial["title"] = complaints[0].title
        form = ImprovementForm(initial=initial)
    context = {"form": form, "complaints": complaints}
    return render(request, "complaints/improvements/form.html", context)


@staff_required
@require_POST
def improvement_from_selection(request):
    """The queue's bulk bar posts the checked ids here: on to the create form with them
    in its address (a POST, so the bar's CSRF token never lands in a URL)."""
    _require_create(request)
    complaints = _complaints_from(request, request.POST.getlist("ids"))
    if not complaints:
        messages.error(request, _("Select at least one complaint."))
        return _back(request, reverse("complaints:staff-home"))
    query = "&".join(f"complaint={c.pk}" for c in complaints)
    return HttpResponseRedirect(f"{reverse('complaints:improvement-create')}?{query}")


# --- Linking ---------------------------------------------------------------------------------


def _linkable_action(request, pk) -> ImprovementAction:
    """An action the user may link to: one they see, or any open one they may link."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    action = (
        services.improvements_visible_to(request.user).filter(pk=pk).first()
        or services.improvements_open_for_linking(request.user).filter(pk=pk).first()
    )
    if action is None:
        raise Http404
    return action


@staff_required
@require_POST
def improvement_link(request, pk: int):
    """From the complaint detail panel: link this complaint to the chosen action."""
    complaint = _complaint(request, pk)
    detail = reverse("complaints:staff-detail", args=[complaint.pk])
    if not request.POST.get("action"):
        messages.error(request, _("Choose an improvement action."))
        return HttpResponseRedirect(detail)
    action = _linkable_action(request, request.POST.get("action"))
    try:
        linked = services.improvement_link(action=action, complaint=complaint, actor=request.user)
    except NotFound:
        raise Http404 from None
    except ServiceError as err:
        messages.error(request, err.message)
    else:
        if linked:
            messages.success(
                request,
                _("%(number)s linked to “%(title)s”.")
                % {"number": complaint.tracking_number, "title": action.title},
            )
        else:
            messages.info(
                request,
                _("%(number)s was already linked to “%(title)s”.")
                % {"number": complaint.tracking_number, "title": action.title},
            )
    return _back(request, detail)


@staff_required
@require_POST
def improvement_unlink(request, pk: int, complaint_pk: int):
    action = _action(request, pk)
    complaint = _complaint(request, complaint_pk)
    try:
        services.improvement_unlink(action=action, complaint=complaint, actor=request.user)
    except NotFound:
        raise Http404 from None
    except ServiceError as err:
        messages.error(request, err.message)
    else:
        messages.success(
            request,
            _("%(number)s unlinked from “%(title)s”.")
            % {"number": complaint.tracking_number, "title": action.title},
        )
    return _back(request, _detail_url(action))


# --- Status -----------------------------------------------------------------------------------


@staff_required
@require_POST
def improvement_status(request, pk: int):
    action = _action(request, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("Choose a valid status; texts are at most %(max)d characters.")
            % {"max": services.TEXT_MAX},
        )
        return _back(request, _detail_url(action))
    data = form.cleaned_data
    try:
        services.improvement_set_status(
            action=action,
            actor=request.user,
            status=data["status"],
            outcome=data["outcome"],
            reason=data["reason"],
        )
    except NotFound:
        raise Http404 from None
    except ServiceError as err:
        messages.error(request, err.message)
    else:
        messages.success(
            request,
            _("“%(title)s” is now: %(status)s.")
            % {"title": action.title, "status": action.get_status_display()},
        )
    return _back(request, _detail_url(action))


urlpatterns = [
    path("improvements/", improvement_list, name="improvement-list"),
    path("improvements/new/", improvement_create, name="improvement-create"),
    path(
        "improvements/new/from-selection/",
        improvement_from_selection,
        name="improvement-from-selection",
    ),
    path("improvements/<int:pk>/", improvement_detail, name="improvement-detail"),
    path("improvements/<int:pk>/status/", improvement_status, name="improvement-status"),
    path(
        "improvements/<int:pk>/unlink/<int:complaint_pk>/",
        improvement_unlink,
        name="improvement-unlink",
    ),
    path("complaints/<int:pk>/improvements/link/", improvement_link, name="improvement-link"),
]

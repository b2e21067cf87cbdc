"""Input validation only: forms check what was typed and hand the values to a service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from complaints import selectors
from complaints.config_choices import CachedModelChoiceField, CategoryChoiceField
from complaints.models import Category, Priority, Product, RootCause, Team, User
from complaints.workflow import TRANSITIONS

# Per transition: (required fields, optional fields) of TransitionActionForm. The
# services stay the authority (conditions, permissions); this only spares the user a
# round trip for an input that is obviously missing.
TRANSITION_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "triage": (("category", "priority"), ("product", "team", "reason")),
    "assign": (("assignee",), ("team", "reason")),
    "start": ((), ()),
    "await_customer": (("reason",), ()),
    "resume": ((), ("reason",)),
    "reassign": (("assignee", "reason"), ()),
    "release": (("reason",), ()),
    "resolve": (("summary", "root_cause", "remedy"), ()),
    "close": (("reason",), ()),
    "reopen": (("reason",), ()),
    "reject": (("reason", "recourse"), ()),
    "merge": (("merge_into",), ("reason",)),
}

# Form field -> keyword of the service, where the two names differ.
_SERVICE_KEYWORDS = {
    ("await_customer", "reason"): "question",
    ("merge", "merge_into"): "target",
}


_INPUT_FIELDS = (
    "reason",
    "recourse",
    "summary",
    "root_cause",
    "remedy",
    "assignee",
    "team",
    "category",
    "priority",
    "product",
    "merge_into",
)


class TransitionActionForm(forms.Form):
    """The intermediate page of the admin's transition actions.

    With `transition` given, the form asks only for that transition's inputs;
    without it, the user picks the transition and fills in what it needs.
    """

    transition = forms.ChoiceField(label=_("Transition"))
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why; for “Ask the customer”, the question put to the customer."),
    )
    recourse = forms.CharField(
        label=_("Recourse offered"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Where the customer may turn if they disagree (e.g. 12315)."),
    )
    summary = forms.CharField(
        label=_("Resolution summary"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    root_cause = forms.ChoiceField(
        label=_("Root cause"), required=False, choices=[("", "---------"), *RootCause.choices]
    )
    remedy = forms.CharField(
        label=_("Remedy decided"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        required=False,
        queryset=User.objects.filter(is_active=True).order_by("username"),
    )
    team = CachedModelChoiceField(
        label=_("Team"), required=False, queryset=Team.objects.filter(is_active=True)
    )
    category = CategoryChoiceField(
        label=_("Category"), required=False, queryset=Category.objects.filter(is_active=True)
    )
    priority = CachedModelChoiceField(
        label=_("Priority"), required=False, queryset=Priority.objects.all()
    )
    product = CachedModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.filter(is_active=True)
    )
    merge_into = forms.CharField(
        label=_("Merge into (tracking number)"), required=False, max_length=40
    )

    def __init__(self, *args: Any, actor: Any, transition: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fixed_transition = transition
        self.fields["transition"].choices = [
            (name, rule.label) for name, rule in TRANSITIONS.items()
        ]
        if transition is not None:
            # The action already names the transition: ask only for its inputs.
            del self.fields["transition"]
            required, optional = TRANSITION_FIELDS[transition]
            for name in _INPUT_FIELDS:
                if name not in required and name not in optional:
                    del self.fields[name]
            for name in required:
                self.fields[name].required = True

    def clean_merge_into(self) -> Any:
        number = (self.cleaned_data.get("merge_into") or "").strip()
        if not number:
            return None
        target = selectors.complaints_visible_to(self.actor).filter(tracking_number=number).first()
        if target is None:
            raise forms.ValidationError(_("No complaint with this tracking number."))
        return target

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.fixed_transition is not None:
            data["transition"] = self.fixed_transition
        name = data.get("transition")
        if name:
            required, _optional = TRANSITION_FIELDS[name]
            for field in required:
                if field in self.fields and field not in self.errors and not data.get(field):
                    self.add_error(
                        field,
                        _("“%(action)s” needs this.") % {"action": TRANSITIONS[name].label},
                    )
        return data

    def service_inputs(self) -> dict[str, Any]:
        """The keyword arguments of the chosen transition's service."""
        name = self.cleaned_data["transition"]
        required, optional = TRANSITION_FIELDS[name]
        inputs = {}
        for field in (*required, *optional):
            value = self.cleaned_data.get(field)
            if field in optional and value in (None, ""):
                continue
            inputs[_SERVICE_KEYWORDS.get((name, field), field)] = value
        return inputs


# --- The staff detail page --------------------------------------------------------------------
# Forms of complaints/views/detail.py. Like the admin's, they only check what was typed:
# whether a transition may happen (and what it still needs) is the services' answer.


def _bootstrap(form: forms.Form) -> None:
    """Bootstrap classes on the widgets, and is-invalid on fields with errors."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        # form._errors, not form.errors: this also runs in __init__, before cleaning.
        if form._errors and name in form._errors:
            css += " is-invalid"
        widget.attrs["class"] = css


class VersionedForm(forms.Form):
    """The version of the complaint the user saw and the last timeline event shown.

    The detail views refuse a form whose version is no longer current, so nobody
    overwrites a change they have not seen.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    seen = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    # Several of these forms share one page: distinct element ids.
    id_prefix = "form"

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)
        _bootstrap(self)

    def full_clean(self) -> None:
        super().full_clean()
        _bootstrap(self)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; cleans to a list (empty when none was chosen)."""

    max_files = 10

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > self.max_files:
            raise forms.ValidationError(
                _("Attach at most %(limit)d files at a time.") % {"limit": self.max_files}
            )
        single = super().clean
        return [single(f, initial) for f in files]


def team_members(team: Team | None):
    """Active members of a team; without a team, active members of any front-line team."""
    users = User.objects.filter(is_active=True)
    if team is not None:
        users = users.filter(memberships__team=team)
    else:
        users = users.filter(
            memberships__team__kind=Team.Kind.FRONT_LINE, memberships__team__is_active=True
        )
    return users.distinct().order_by("username")


# Which input each transition condition is about: the fields marked required in the
# browser. The server leaves them optional so that the service's conditions, not the
# form, say what is missing (a refusal lists every unmet condition).
def _condition_inputs() -> dict[Any, tuple[str, ...]]:
    from complaints import workflow as w

    return {
        w.has_category_and_priority: ("category", "priority"),
        w.has_assignee_in_team: ("assignee",),
        w.has_resolution: ("summary", "root_cause"),
        w.has_remedy_decision: ("remedy",),
        w.has_reason: ("reason", "question"),
        w.has_recourse: ("recourse",),
        w.has_open_merge_target: ("target",),
        w.customer_was_told: ("told_customer",),
    }


class StaffTransitionForm(VersionedForm):
    """Exactly the inputs of one transition, named as its service's keyword arguments.

    For an agent, "assign" is a claim: the assignee is the agent, within the
    complaint's team.
    """

    id_prefix = "transition"

    def __init__(self, *args: Any, rule: Any, complaint: Any, actor: Any, **kwargs: Any):
        from complaints import roles
        from complaints.services.notifications import can_reach

        self.rule = rule
        self.complaint = complaint
        self.actor = actor
        self.is_claim = rule.name == "assign" and not roles.is_supervisor(actor)
        super().__init__(*args, **kwargs)
        needed = {
            name
            for cond in rule.conditions
            for name in _condition_inputs().get(cond, ())
            if name in rule.inputs
        }
        for name in rule.inputs:
            if self.is_claim and name == "team":
                continue
            if name == "told_customer" and can_reach(complaint.customer):
                continue  # they are told by message
            field = self._field(name)
            if name in needed and not isinstance(field.widget, forms.HiddenInput):
                field.widget.attrs["required"] = True
            self.fields[name] = field
        _bootstrap(self)

    def _assignees(self):
        if self.is_claim:
            return User.objects.filter(pk=self.actor.pk)
        team_ids = {self.complaint.team_id} - {None}
        posted = str(self.data.get("team") or "") if self.is_bound else ""
        if posted.isdigit():
            # Assigning into another team: its members are candidates too (the
            # service checks the assignee belongs to the team finally chosen).
            team_ids.add(int(posted))
        if team_ids:
            users = User.objects.filter(
                is_active=True, memberships__team_id__in=team_ids, memberships__team__is_active=True
            ).distinct()
        else:
            users = team_members(None)
        if self.rule.name == "reassign" and self.complaint.assignee_id is not None:
            users = users.exclude(pk=self.complaint.assignee_id)
        return users.order_by("username")

    def _field(self, name: str) -> forms.Field:
        c = self.complaint
        text = {"required": False, "max_length": 5000}
        if name == "reason":
            return forms.CharField(
                label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), **text
            )
        if name == "question":
            return forms.CharField(
                label=_("Question to the customer"),
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text=_("Sent to the customer; the SLA clock pauses until they answer."),
                **text,
            )
        if name == "summary":
            return forms.CharField(
                label=_("Resolution summary"),
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text=_("Told to the customer."),
                initial=c.resolution_summary,
                **text,
            )
        if name == "root_cause":
            return forms.ChoiceField(
                label=_("Root cause"),
                required=False,
                choices=[("", "---------"), *RootCause.choices],
                initial=c.root_cause,
            )
        if name == "remedy":
            return forms.CharField(
                label=_("Remedy decided"),
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=c.remedy_decision,
                **text,
            )
        if name == "told_customer":
            return forms.BooleanField(
                label=_("I told the customer the result myself (by phone or in person)"),
                required=False,
                help_text=_(
                    "Needed only when the customer has no email address or phone number "
                    "on file; otherwise they are told by message."
                ),
            )
        if name == "recourse":
            return forms.CharField(
                label=_("Recourse offered"),
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("Where the customer may turn if they disagree (e.g. 12315)."),
                initial=c.recourse,
                **text,
            )
        if name == "assignee":
            if self.is_claim:
                return forms.ModelChoiceField(
                    queryset=self._assignees(),
                    required=False,
                    widget=forms.HiddenInput,
                    initial=self.actor.pk,
                )
            return forms.ModelChoiceField(
                label=_("Assignee"), queryset=self._assignees(), required=False
            )
        if name == "team":
            return CachedModelChoiceField(
                label=_("Team"),
                queryset=Team.objects.filter(is_active=True, kind=Team.Kind.FRONT_LINE),
                required=False,
                initial=c.team_id,
                help_text=(
                    _("Empty: the category's default team.") if self.rule.name == "triage" else ""
                ),
            )
        if name == "category":
            return CategoryChoiceField(
                label=_("Category"),
                queryset=Category.objects.filter(is_active=True),
                required=False,
                initial=c.category_id,
            )
        if name == "priority":
            return CachedModelChoiceField(
                label=_("Priority"),
                queryset=Priority.objects.all(),
                required=False,
                initial=c.priority_id,
            )
        if name == "product":
            return CachedModelChoiceField(
                label=_("Product"),
                queryset=Product.objects.filter(is_active=True),
                required=False,
                initial=c.product_id,
            )
        if name == "target":
            return forms.CharField(
                label=_("Merge into (tracking number)"),
                required=False,
                max_length=40,
                help_text=_("The open complaint that goes on with the same customer's problem."),
            )
        raise LookupError(f"no form field for transition input {name!r}")

    def clean_target(self) -> Any:
        number = (self.cleaned_data.get("target") or "").strip()
        if not number:
            return None
        target = (
            selectors.complaints_visible_to(self.actor)
            .filter(tracking_number__in={number, number.upper()})
            .exclude(pk=self.complaint.pk)
            .first()
        )
        if target is None:
            raise forms.ValidationError(
                _("No other complaint you may see has the tracking number %(number)s.")
                % {"number": number}
            )
        return target

    def service_inputs(self) -> dict[str, Any]:
        """The keyword arguments of the transition's service."""
        inputs = {
            name: self.cleaned_data.get(name) for name in self.rule.inputs if name in self.fields
        }
        if self.is_claim:
            inputs["assignee"] = self.actor
        return inputs


class MessageForm(VersionedForm):
    """A reply to the customer or an internal note, with optional files."""

    id_prefix = "message"

    body = forms.CharField(
        label=_("Message"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "“Reply” emails the customer; “Internal note” is for colleagues only "
            "(@username notifies them)."
        ),
    )
    files = MultipleFileField(label=_("Attachments"), required=False)


class AttachmentUploadForm(VersionedForm):
    id_prefix = "upload"
    files = MultipleFileField(label=_("Files"))
    visible_to_customer = forms.BooleanField(
        label=_("Visible to the customer"),
        required=False,
        help_text=_("Unticked: internal, for staff only."),
    )


class ReclassifyForm(VersionedForm):
    """Category, product and priority, changed with a reason (recorded in the timeline)."""

    id_prefix = "reclassify"

    category = CategoryChoiceField(
        label=_("Category"), queryset=Category.objects.filter(is_active=True), required=False
    )
    product = CachedModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True), required=False
    )
    priority = CachedModelChoiceField(
        label=_("Priority"), queryset=Priority.objects.all(), required=False
    )
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, complaint: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.complaint = complaint
        for name in ("category", "product", "priority"):
            self.fields[name].initial = getattr(complaint, f"{name}_id")
        # Once set, a category and a priority may be changed but not removed.
        self.fields["category"].required = complaint.category_id is not None
        self.fields["priority"].required = complaint.priority_id is not None
        _bootstrap(self)

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in ("category", "product", "priority")}

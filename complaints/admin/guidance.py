"""Admin registrations of SOPs (versioned), the SOP checks complaints recorded, and
reply templates (imported by complaints/admin/__init__.py).

An SOP is never edited in place: saving the current version's form creates the next
version through services.guidance.sop_save_version (checks recorded against the old
version stay bound to it); old versions are read only. SOP checks are written from
the complaint detail page and only read here.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import escape, format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from complaints.admin.base import CategoryTreeFilter, HistoryAdmin, ReadOnlyAdminMixin
from complaints.errors import InvalidInput
from complaints.models import RemedyKind, ReplyTemplate, Sop, SopCheck
from complaints.services import guidance as sop_services
from complaints.services import reply_templates

EDITABLE = ("title", "steps", "allowed_remedies", "time_limit_hours", "standard_wording")
BOOKKEEPING = ("version", "is_current", "created_at", "created_by")


class SopForm(forms.ModelForm):
    steps = forms.CharField(
        label=_("steps"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("One step per line, in order. Empty lines are ignored."),
    )
    allowed_remedies = forms.MultipleChoiceField(
        label=_("allowed remedies"),
        choices=RemedyKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Sop
        fields = ("category", *EDITABLE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(self.initial.get("steps"), list):
            self.initial["steps"] = "\n".join(str(s) for s in self.initial["steps"])

    def clean(self):
        data = super().clean()
        try:
            cleaned = sop_services.sop_validate(
                title=data.get("title", ""),
                steps=data.get("steps", ""),
                allowed_remedies=data.get("allowed_remedies", []),
                time_limit_hours=data.get("time_limit_hours"),
            )
        except InvalidInput as err:
            for name, errors in err.fields.items():
                if name in self.fields and name not in self.errors:
                    self.add_error(name, errors)
            return data
        data.update(cleaned)
        return data


@admin.register(Sop)
class SopAdmin(HistoryAdmin):
    form = SopForm
    list_display = ("title", "category", "version", "is_current", "created_at", "created_by")
    list_filter = (("category", CategoryTreeFilter), "is_current")
    list_select_related = ("category", "created_by")
    search_fields = ("title", "standard_wording")
    category_relation = "category"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("category", *EDITABLE)
        if not self.has_change_permission(request, obj):
            # Read only: the steps and remedies as people read them, not as JSON.
            return (
                "category",
                *BOOKKEEPING,
                "title",
                "numbered_steps",
                "remedy_labels",
                "time_limit_hours",
                "standard_wording",
            )
        return ("category", *BOOKKEEPING, *EDITABLE)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # A new version belongs to the same category.
        return ("category", *BOOKKEEPING, "numbered_steps", "remedy_labels")

    def has_change_permission(self, request, obj=None) -> bool:
        # Old versions are history: the checks made against them point at them.
        if obj is not None and not obj.is_current:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("steps"))
    def numbered_steps(self, obj: Sop):
        return format_html(
            "<ol>{}</ol>", format_html_join("", "<li>{}</li>", ((s,) for s in obj.steps))
        )

    @admin.display(description=_("allowed remedies"))
    def remedy_labels(self, obj: Sop) -> str:
        labels = [str(RemedyKind(v).label) for v in obj.allowed_remedies if v in RemedyKind.values]
        return ", ".join(labels) or "—"

    def save_model(self, request, obj, form, change):
        """Save as the next version through the service, then let the admin's log and
        redirect name that new version (obj becomes it; the old row is untouched)."""
        data = form.cleaned_data
        previous = obj.version if change else None
        saved = sop_services.sop_save_version(
            category=data.get("category") or obj.category,
            actor=request.user,
            title=data["title"],
            steps=data["steps"],
            allowed_remedies=data["allowed_remedies"],
            time_limit_hours=data.get("time_limit_hours"),
            standard_wording=data.get("standard_wording", ""),
        )
        for field in Sop._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        if previous is not None and saved.version == previous:
            self.message_user(request, gettext("Nothing changed: no new version."), messages.INFO)
        else:
            self.message_user(
                request,
                gettext("Saved as version %(version)d, now the current one.")
                % {"version": saved.version},
                messages.SUCCESS,
            )


@admin.register(SopCheck)
class SopCheckAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ("checked_at", "complaint", "sop", "step", "step_text", "checked_by")
    list_select_related = ("complaint", "sop", "checked_by")
    search_fields = ("complaint__tracking_number", "step_text")
    date_hierarchy = "checked_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]


def _placeholder_help() -> str:
    items = "; ".join(f"{name} {label}" for name, label in reply_templates.placeholder_help())
    text = gettext("Placeholders, replaced when the template is inserted: %(items)s.") % {
        "items": items
    }
    return escape(text)  # the admin shows help texts as HTML


class ReplyTemplateForm(forms.ModelForm):
    class Meta:
        model = ReplyTemplate
        fields = ("name", "category", "language", "body", "is_active")
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = _placeholder_help()

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        unknown = reply_templates.unknown_placeholders(body)
        if unknown:
            raise ValidationError(
                gettext("Unknown placeholders: %(names)s.") % {"names": ", ".join(unknown)},
                code="unknown_placeholder",
            )
        return body


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(HistoryAdmin):
    form = ReplyTemplateForm
    list_display = ("name", "category", "language", "is_active")
    list_filter = ("is_active", "language", ("category", CategoryTreeFilter))
    list_select_related = ("category",)
    search_fields = ("name", "body")
    category_relation = "category"

"""The public pages' forms: input validation only. complaint_submit stays the
authority, and its field errors are shown on the same fields."""

from __future__ import annotations

import os
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from complaints.contacts import normalize_phone
from complaints.models import Demand, Product
from complaints.services import attachments as attachment_services
from complaints.services import intake

MAX_FILES = 5


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each checked like attachment_add checks it, so a
    refused file is reported before anything is created."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"class": "form-control"}))
        kwargs.setdefault("allow_empty_file", True)  # reported below, with the file's name
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        items = data if isinstance(data, list | tuple) else [data]
        files = [single(item, initial) for item in items if item]
        errors = upload_errors(files)
        if errors:
            raise ValidationError(errors)
        return files


def upload_errors(files: list) -> list[str]:
    """What attachment_add would refuse, per file, with its own messages."""
    errors = []
    if len(files) > MAX_FILES:
        errors.append(
            ngettext("Attach at most %(n)d file.", "Attach at most %(n)d files.", MAX_FILES)
            % {"n": MAX_FILES}
        )
    limit = attachment_services.max_bytes()
    for upload in files:
        name = attachment_services.clean_filename(getattr(upload, "name", ""))
        size = getattr(upload, "size", None) or 0
        if size <= 0:
            errors.append(_("The file “%(name)s” is empty.") % {"name": name})
            continue
        if size > limit:
            errors.append(
                _("The file “%(name)s” is too large (at most %(limit)d MB).")
                % {"name": name, "limit": limit // (1024 * 1024)}
            )
            continue
        upload.seek(0)
        head = upload.read(8192)
        upload.seek(0)
        if attachment_services.sniff(head, os.path.splitext(name)[1]) is None:
            errors.append(
                _(
                    "The file “%(name)s” is not an allowed type (%(types)s), or its content does not match its name."
                )
                % {"name": name, "types": ", ".join(sorted(attachment_services.ALLOWED))}
            )
    return errors


def files_help() -> str:
    # Built per request: it has numbers in it, in the visitor's language.
    return _(
        "Optional. Up to %(n)d files of at most %(mb)d MB each: images, PDF, text, "
        "Office documents, audio or video."
    ) % {"n": MAX_FILES, "mb": attachment_services.max_bytes() // (1024 * 1024)}


def _text(label, *, required: bool = True, max_length: int, rows: int = 0, **kwargs: Any):
    widget = (
        forms.Textarea(attrs={"class": "form-control", "rows": rows})
        if rows
        else forms.TextInput(attrs={"class": "form-control"})
    )
    return forms.CharField(
        label=label, required=required, max_length=max_length, widget=widget, **kwargs
    )


class ComplaintForm(forms.Form):
    name = _text(gettext_lazy("Your name"), max_length=200)
    phone = _text(
        gettext_lazy("Phone"),
        required=False,
        max_length=40,
        help_text=gettext_lazy("A phone number or an email address, so we can reach you."),
    )
    email = forms.EmailField(
        label=gettext_lazy("Email"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"class": "form-control", "autocomplete": "email"}),
    )
    order_number = _text(gettext_lazy("Order number"), required=False, max_length=64)
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"),
        required=False,
        queryset=Product.objects.filter(is_active=True).order_by("name"),
        empty_label=gettext_lazy("Not listed / not sure"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    description = _text(
        gettext_lazy("What happened?"),
        max_length=intake.MAX_DESCRIPTION,
        rows=6,
        help_text=gettext_lazy("When and where it happened, and what went wrong."),
        error_messages={"required": gettext_lazy("Describe what happened.")},
    )
    demand = forms.ChoiceField(
        label=gettext_lazy("What would you like us to do?"),
        choices=[("", gettext_lazy("Choose…")), *Demand.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={
            "required": gettext_lazy("Choose what you would like us to do."),
            "invalid_choice": gettext_lazy("Choose what you would like us to do."),
        },
    )
    demand_detail = _text(
        gettext_lazy("Details of your request"),
        required=False,
        max_length=2000,
        rows=3,
        help_text=gettext_lazy("For example the amount, or the replacement you would like."),
    )
    attachments = MultipleFileField(
        label=gettext_lazy("Choose files"),
        required=False,
    )
    # The honeypot: hidden from people by CSS, filled in by form-filling bots.
    website = forms.CharField(
        label=gettext_lazy("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    form_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update(
            {"autocomplete": "tel", "inputmode": "tel", "type": "tel"}
        )
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["attachments"].help_text = files_help()

    def clean(self) -> dict:
        data = super().clean()
        # The same contact rules as intake.complaint_submit, with its messages.
        phone = data.get("phone", "")
        phone_n = normalize_phone(phone)
        if (phone and not phone_n) or (phone_n and not 8 <= len(phone_n) - 1 <= 15):
            self.add_error("phone", _("This does not look like a phone number."))
        elif not phone_n and not data.get("email") and "email" not in self.errors:
            self.add_error(
                "phone", _("Give a phone number or an email address so we can reach you.")
            )
        return data


class TrackForm(forms.Form):
    number = _text(gettext_lazy("Tracking number"), max_length=40)
    contact = _text(
        gettext_lazy("Email or phone number"),
        max_length=254,
        help_text=gettext_lazy("The one you gave us with your complaint."),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["number"].widget.attrs.update(
            {
                "placeholder": "TS-20260101-XXXXX",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }
        )


class MessageForm(forms.Form):
    body = _text(
        gettext_lazy("Your message"),
        max_length=20000,
        rows=4,
        error_messages={"required": gettext_lazy("The message is empty.")},
    )
    attachments = MultipleFileField(label=gettext_lazy("Add files"), required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = files_help()

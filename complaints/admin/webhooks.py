"""Webhooks (admins register URLs and pick events) and their delivery log, read only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from complaints.models import Webhook, WebhookDelivery, WebhookEvent


class WebhookForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Webhook
        fields = ["name", "url", "events", "is_active", "secret"]


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ("name", "url", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "webhook",
        "event",
        "state",
        "attempts",
        "response_status",
        "delivered_at",
    )
    list_filter = ("state", "event", "webhook")
    list_select_related = ("webhook",)
    search_fields = ("delivery_id", "last_error")
    date_hierarchy = "created_at"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

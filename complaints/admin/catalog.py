"""Admin of the catalogue: categories (listed by full name), products, priorities
and customers with their external ids.
"""

from __future__ import annotations

import tempfile

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import FileResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from complaints.admin.base import CategoryTreeFilter, HistoryAdmin
from complaints.models import Category, Customer, CustomerExternalId, Priority, Product
from complaints.services import privacy


@admin.register(Category)
class CategoryAdmin(HistoryAdmin):
    list_display = ("full_name_column", "code", "parent", "default_team", "is_active", "sort_order")
    list_filter = ("is_active", ("parent", CategoryTreeFilter), "default_team")
    list_select_related = ("default_team",)
    search_fields = ("name", "code")
    category_relation = ""

    @admin.display(description=_("full name"), ordering="name")
    def full_name_column(self, obj: Category) -> str:
        return obj.full_name


@admin.register(Product)
class ProductAdmin(HistoryAdmin):
    list_display = ("name", "sku", "category", "is_active")
    list_filter = ("is_active", ("category", CategoryTreeFilter))
    list_select_related = ("category",)
    category_relation = "category"
    search_fields = ("name", "sku")


@admin.register(Priority)
class PriorityAdmin(HistoryAdmin):
    list_display = ("code", "level", "name", "color")
    list_filter = ("level",)
    search_fields = ("code", "name")


class CustomerExternalIdInline(admin.TabularInline):
    model = CustomerExternalId
    extra = 0


@admin.register(Customer)
class CustomerAdmin(HistoryAdmin):
    """Phones and emails are masked for users without view_personal_data (and not
    editable by them). Export and erasure of a person's data are actions here."""

    list_display = ("__str__", "name", "phone", "email", "tier", "language", "created_at")
    list_filter = ("tier", "language", ("erased_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "phone", "email", "external_ids__value")
    inlines = (CustomerExternalIdInline,)
    actions = ("export_personal_data", "erase_personal_data")
    readonly_fields = ("erased_at",)

    def _full(self, request) -> bool:
        return privacy.may_view_personal_data(request.user)

    def get_list_display(self, request):
        if self._full(request):
            return self.list_display
        return ("__str__", "name", "masked_phone", "masked_email", "tier", "language", "created_at")

    def get_readonly_fields(self, request, obj=None):
        if self._full(request):
            return self.readonly_fields
        return (*self.readonly_fields, "masked_phone", "masked_email")

    def get_exclude(self, request, obj=None):
        return None if self._full(request) else ("phone", "email")

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Customer) -> str:
        return privacy.mask_phone(obj.phone)

    @admin.display(description=_("email"))
    def masked_email(self, obj: Customer) -> str:
        return privacy.mask_email(obj.email)

    def has_personal_data_permission(self, request) -> bool:
        return self._full(request) and self.has_change_permission(request)

    @admin.action(description=_("Export the person's data (ZIP)"), permissions=["personal_data"])
    def export_personal_data(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, _("Select exactly one customer to export."), messages.WARNING
            )
            return None
        customer = queryset.get()
        # FileResponse closes it once sent.
        handle = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
        privacy.customer_export(customer=customer, actor=request.user, out=handle, request=request)
        handle.seek(0)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"customer-{customer.pk}.zip",
            content_type="application/zip",
        )

    @admin.action(description=_("Erase the person's data…"), permissions=["personal_data"])
    def erase_personal_data(self, request, queryset):
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/complaints/customer/erase_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Erase personal data"),
                    "opts": self.model._meta,
                    "customers": queryset,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        erased = 0
        for customer in queryset:
            result = privacy.customer_erase(customer=customer, actor=request.user, request=request)
            erased += not result.already_erased
        self.message_user(
            request,
            ngettext(
                "%(count)d customer's personal data erased.",
                "%(count)d customers' personal data erased.",
                erased,
            )
            % {"count": erased},
            messages.SUCCESS,
        )
        return None

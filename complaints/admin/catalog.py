"""Admin of the catalogue: categories (listed by full name), products, priorities
and customers with their external ids.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from complaints.admin.base import CategoryTreeFilter, HistoryAdmin
from complaints.models import Category, Customer, CustomerExternalId, Priority, Product


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
    list_display = ("__str__", "name", "phone", "email", "tier", "language", "created_at")
    list_filter = ("tier", "language")
    search_fields = ("name", "phone", "email", "external_ids__value")
    inlines = (CustomerExternalIdInline,)

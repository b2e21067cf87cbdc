"""Read-only configuration: categories, products, priorities, teams (the ids that
filters and transition inputs take)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from complaints.api.base import ApiView, error_responses
from complaints.api.serializers import (
    CategorySerializer,
    PrioritySerializer,
    ProductSerializer,
    TeamSerializer,
)
from complaints.models import Category, Priority, Product, Team


def _config_view(name: str, queryset, serializer_class, summary: str) -> type[ApiView]:
    class ConfigView(ApiView):
        @extend_schema(
            operation_id=f"{name}_list",
            summary=summary,
            responses={200: serializer_class(many=True), **error_responses()},
            tags=["configuration"],
        )
        def get(self, request: Request) -> Response:
            return Response(serializer_class(queryset.all(), many=True).data)

    ConfigView.__name__ = f"{name.title()}View"
    return ConfigView


CategoryListView = _config_view(
    "categories",
    Category.objects.order_by("sort_order", "name", "pk"),
    CategorySerializer,
    "Categories (a tree: `parent`)",
)
ProductListView = _config_view(
    "products", Product.objects.order_by("name", "pk"), ProductSerializer, "Products"
)
PriorityListView = _config_view(
    "priorities", Priority.objects.order_by("level"), PrioritySerializer, "Priority grades"
)
TeamListView = _config_view(
    "teams",
    Team.objects.order_by("name", "pk"),
    TeamSerializer,
    "Teams: front-line teams and collaborating departments",
)

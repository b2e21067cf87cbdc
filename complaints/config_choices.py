"""Choice fields over configuration (categories, products, priorities, teams) that
neither list nor validate with a query: the rows come from config_cache, kept per
queryset (its SQL is the key), and are forgotten when any such row changes.

Use them only for querysets of the models config_cache listens to.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms.models import ModelChoiceIterator

from complaints import config_cache
from complaints.widgets import FastSelect


def cached_rows(queryset: QuerySet) -> list[Model]:
    key = f"choices:{queryset.model._meta.label}:{queryset.query}"
    return config_cache.lookup(key, lambda: list(queryset.all()))


def category_paths() -> dict[int, str]:
    """Every category's full name ("Parent / Child"), kept by config_cache.

    Category.full_name walks the parents one query each; lists and choice fields
    label many categories at once, so they use this instead.
    """
    from complaints.models import Category

    def load() -> dict[int, str]:
        rows = {
            pk: (parent, name)
            for pk, parent, name in Category.objects.values_list("pk", "parent_id", "name")
        }
        paths = {}
        for pk in rows:
            names, node, seen = [], pk, set()
            while node is not None and node not in seen and node in rows:
                seen.add(node)
                node, name = rows[node]
                names.append(name)
            paths[pk] = " / ".join(reversed(names))
        return paths

    return config_cache.lookup("category-paths", load)


def category_parents() -> dict[int, int | None]:
    """Each category's parent id (the whole tree), kept by config_cache."""
    from complaints.models import Category

    return config_cache.lookup(
        "category-parents", lambda: dict(Category.objects.values_list("pk", "parent_id"))
    )


def category_chain(category_id: int | None) -> list[int]:
    """The category and its ancestors, nearest first ([] for None)."""
    parents = category_parents() if category_id is not None else {}
    chain: list[int] = []
    node = category_id
    while node is not None and node not in chain:  # a cycle would be a data error
        chain.append(node)
        node = parents.get(node)
    return chain


def category_descendants(category_id: int) -> list[int]:
    """The category and every category below it."""
    children: dict[int | None, list[int]] = {}
    for pk, parent in category_parents().items():
        children.setdefault(parent, []).append(pk)
    ids, frontier = [category_id], [category_id]
    while frontier:
        frontier = [c for pk in frontier for c in children.get(pk, []) if c not in ids]
        ids.extend(frontier)
    return ids


class _CachedIterator(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in cached_rows(self.queryset):
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(cached_rows(self.queryset)) + (self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(cached_rows(self.queryset))


def _find(field: forms.ModelChoiceField, value: Any) -> Model:
    key = field.to_field_name or "pk"
    if isinstance(value, field.queryset.model):
        value = getattr(value, key)
    wanted = str(value)
    for obj in cached_rows(field.queryset):
        if str(getattr(obj, key)) == wanted:
            return obj
    raise ValidationError(
        field.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
    )


class CachedModelChoiceField(forms.ModelChoiceField):
    iterator = _CachedIterator
    widget = FastSelect

    def to_python(self, value: Any) -> Model | None:
        if value in self.empty_values:
            return None
        return _find(self, value)


class CachedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    iterator = _CachedIterator

    def _check_values(self, value: Any) -> list[Model]:
        if not isinstance(value, list | tuple | set | frozenset):
            raise ValidationError(self.error_messages["invalid_list"], code="invalid_list")
        found = []
        for item in value:
            try:
                found.append(_find(self, item))
            except ValidationError:
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": item},
                ) from None
        return found


class CategoryChoiceField(CachedModelChoiceField):
    """Labels categories with their full names ("Parent / Child")."""

    def label_from_instance(self, obj: Model) -> str:
        return category_paths().get(obj.pk) or str(obj)


class CachedModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = CachedModelChoiceField


class CachedModelMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = CachedModelMultipleChoiceField


def current_sops() -> dict[int, Any]:
    """The current SOP version of each category that has one (with its category),
    kept by config_cache."""
    from complaints.models import Sop

    return config_cache.lookup(
        "current-sops",
        lambda: {
            sop.category_id: sop
            for sop in Sop.objects.filter(is_current=True).select_related("category")
        },
    )


def current_sop_for_chain(chain: list[int]) -> Any:
    """The current SOP nearest along the category chain, or None."""
    sops = current_sops() if chain else {}
    return next((sops[pk] for pk in chain if pk in sops), None)

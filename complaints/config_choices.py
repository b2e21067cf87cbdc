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


def rows_key(queryset: QuerySet) -> str:
    """The cache key of a queryset's rows: its SQL. Compiling it costs about a
    millisecond, so choice fields and filters work it out once, where they are
    declared, and keep it in their copies (`cache_key`)."""
    return f"choices:{queryset.model._meta.label}:{queryset.query}"


def cached_rows(queryset: QuerySet, key: str | None = None) -> list[Model]:
    """The rows of `queryset` (of a model config_cache listens to), kept by
    config_cache under `key` (rows_key(queryset) when not given). A fixed key names
    one queryset only: hot paths pass one instead of compiling the SQL each time."""
    return config_cache.lookup(key or rows_key(queryset), lambda: list(queryset.all()))


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
        for obj in self.field.cached_rows():
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self.field.cached_rows()) + (self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self.field.cached_rows())


def _find(field: forms.ModelChoiceField, value: Any) -> Model:
    key = field.to_field_name or "pk"
    if isinstance(value, field.queryset.model):
        value = getattr(value, key)
    wanted = str(value)
    for obj in field.cached_rows():
        if str(getattr(obj, key)) == wanted:
            return obj
    raise ValidationError(
        field.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
    )


class _CachedRowsMixin:
    """The field's rows from config_cache. The key is worked out once, when the field
    is declared, and kept by the per-form copies (which copy the queryset too); a
    queryset set later gets its own key."""

    def __init__(self, queryset, *, cache_key: str | None = None, **kwargs):
        super().__init__(queryset, **kwargs)
        self._rows_key = cache_key or (rows_key(queryset) if queryset is not None else None)

    def _set_queryset(self, queryset):
        super()._set_queryset(queryset)
        self._rows_key = None

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def __deepcopy__(self, memo):
        key = self._rows_key
        result = super().__deepcopy__(memo)  # sets the copied queryset
        result._rows_key = key  # the same rows
        return result

    def cached_rows(self) -> list[Model]:
        if self._rows_key is None:
            self._rows_key = rows_key(self.queryset)
        return cached_rows(self.queryset, self._rows_key)


class CachedModelChoiceField(_CachedRowsMixin, forms.ModelChoiceField):
    iterator = _CachedIterator
    widget = FastSelect

    def to_python(self, value: Any) -> Model | None:
        if value in self.empty_values:
            return None
        return _find(self, value)


class CachedModelMultipleChoiceField(_CachedRowsMixin, forms.ModelMultipleChoiceField):
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


class _KeyedFilterMixin:
    """Works out the rows' cache key once, where the filter is declared (a filter set
    copies its filters, querysets included, for every request)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(self.queryset, QuerySet):
            self.extra.setdefault("cache_key", rows_key(self.queryset))


class CachedModelChoiceFilter(_KeyedFilterMixin, django_filters.ModelChoiceFilter):
    field_class = CachedModelChoiceField


class CachedModelMultipleChoiceFilter(_KeyedFilterMixin, django_filters.ModelMultipleChoiceFilter):
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

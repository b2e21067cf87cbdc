"""Configuration as data: export an installation's configuration to JSON (or YAML)
and import it into another, so a configured installation can be copied.

Sections: calendars (with their days), teams (without their members, supervisor or
head: people differ between installations), categories, products, priorities, the
priority grid, SLA policies, routing rules, keyword rules, reply templates, SOPs (the
current version) and authority limits. Rows are matched by natural keys (codes and
names, never database ids), so importing the same file twice changes nothing the
second time. Everything is validated before anything is written; one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from complaints.errors import InvalidInput
from complaints.models import (
    AuthorityLimit,
    BusinessCalendar,
    CalendarDay,
    Category,
    KeywordRule,
    Priority,
    PriorityMatrix,
    Product,
    ReplyTemplate,
    RoutingRule,
    SlaPolicy,
    Sop,
    Team,
)
from complaints.services.base import actor_user

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Section:
    name: str
    model: type
    keys: tuple[str, ...]  # natural key: plain fields and/or foreign keys by their key
    fields: tuple[str, ...]
    # foreign key field → (model, the referenced model's natural key field)
    refs: dict[str, tuple[type, str]]


SECTIONS = [
    Section("calendars", BusinessCalendar, ("name",), ("time_zone", "working_hours"), {}),
    Section(
        "teams",
        Team,
        ("code",),
        ("name", "kind", "collaboration_minutes", "assignment_strategy", "visibility", "is_active"),
        {"calendar": (BusinessCalendar, "name")},
    ),
    Section(
        "categories",
        Category,
        ("code",),
        ("name", "is_active", "sort_order"),
        {"parent": (Category, "code"), "default_team": (Team, "code")},
    ),
    Section("products", Product, ("sku",), ("name", "is_active"), {"category": (Category, "code")}),
    Section("priorities", Priority, ("code",), ("level", "name", "color"), {}),
    Section(
        "priority_grid",
        PriorityMatrix,
        ("urgency", "impact"),
        (),
        {"priority": (Priority, "code")},
    ),
    Section(
        "sla_policies",
        SlaPolicy,
        ("category", "priority"),
        ("name", "first_response_minutes", "resolution_minutes", "warning_percent", "is_active"),
        {
            "category": (Category, "code"),
            "priority": (Priority, "code"),
            "calendar": (BusinessCalendar, "name"),
        },
    ),
    Section(
        "routing_rules",
        RoutingRule,
        ("name",),
        ("order", "channel", "customer_tier", "is_active"),
        {"category": (Category, "code"), "product": (Product, "sku"), "team": (Team, "code")},
    ),
    Section(
        "keyword_rules",
        KeywordRule,
        ("name",),
        ("terms", "urgency", "impact", "flags", "order", "is_active"),
        {"category": (Category, "code"), "product": (Product, "sku")},
    ),
    Section(
        "reply_templates",
        ReplyTemplate,
        ("name", "category", "language"),
        ("body", "is_active"),
        {"category": (Category, "code")},
    ),
    Section("authority_limits", AuthorityLimit, ("role", "kind"), ("max_amount",), {}),
]
SOP_FIELDS = ("title", "steps", "allowed_remedies", "time_limit_hours", "standard_wording")
_SOP_DEFAULTS = {
    "title": "",
    "steps": [],
    "allowed_remedies": [],
    "time_limit_hours": None,
    "standard_wording": "",
}


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _ref_value(obj, name: str, section: Section) -> Any:
    target = getattr(obj, name)
    return None if target is None else getattr(target, section.refs[name][1])


def config_export() -> dict[str, Any]:
    """The whole configuration as plain data (JSON/YAML friendly)."""
    data: dict[str, Any] = {"version": FORMAT_VERSION}
    for section in SECTIONS:
        rows = []
        queryset = section.model.objects.all()
        if section.refs:
            queryset = queryset.select_related(*section.refs)
        if section.model is Category:
            queryset = sorted(queryset, key=lambda c: (c.full_name.count(" / "), c.code))
        for obj in queryset:
            row = {
                f: _plain(getattr(obj, f))
                for f in (*section.keys, *section.fields)
                if f not in section.refs
            }
            row.update({name: _ref_value(obj, name, section) for name in section.refs})
            if section.model is BusinessCalendar:
                row["days"] = [
                    {"date": d.date.isoformat(), "kind": d.kind, "name": d.name}
                    for d in obj.days.all()
                ]
            rows.append(row)
        data[section.name] = rows
    data["sops"] = [
        {"category": sop.category.code, **{f: getattr(sop, f) for f in SOP_FIELDS}}
        for sop in Sop.objects.filter(is_current=True)
        .select_related("category")
        .order_by("category__code")
    ]
    return data


class _Importer:
    def __init__(self, actor: Any):
        self.actor = actor_user(actor)
        self.errors: list[str] = []
        self.counts: dict[str, dict[str, int]] = {}

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def resolve(self, section: Section, name: str, value: Any, where: str):
        if value in (None, ""):
            return None
        model, key = section.refs[name]
        found = model.objects.filter(**{key: value}).first()
        if found is None:
            self.fail(where, _("unknown %(what)s “%(value)s”.") % {"what": name, "value": value})
        return found

    def section(self, section: Section, rows: Any) -> None:
        counts = self.counts.setdefault(section.name, {"created": 0, "updated": 0, "unchanged": 0})
        if not isinstance(rows, list):
            self.fail(section.name, _("a list is expected."))
            return
        for index, row in enumerate(rows):
            where = f"{section.name}[{index}]"
            if not isinstance(row, dict):
                self.fail(where, _("an object is expected."))
                continue
            refs = {
                n: self.resolve(section, n, row.get(n), where) for n in section.refs if n in row
            }
            if len(self.errors) > 50:
                return
            lookup = {k: refs[k] if k in section.refs else row.get(k) for k in section.keys}
            required = [
                k
                for k in section.keys
                if k not in section.refs and not section.model._meta.get_field(k).blank
            ]
            if any(lookup[k] in (None, "") for k in required):
                self.fail(where, _("%(keys)s required.") % {"keys": ", ".join(required)})
                continue
            obj = section.model.objects.filter(**lookup).first()
            created = obj is None
            obj = obj or section.model(**lookup)
            changed = created
            for f in section.fields:
                if f in row and _plain(getattr(obj, f)) != row[f]:
                    setattr(obj, f, row[f])
                    changed = True
            for name, target in refs.items():
                if getattr(obj, f"{name}_id") != (target.pk if target else None):
                    setattr(obj, name, target)
                    changed = True
            if changed:
                try:
                    obj.full_clean(validate_unique=False)
                except ValidationError as exc:
                    for field, messages in exc.message_dict.items():
                        self.fail(f"{where}.{field}", " ".join(messages))
                    continue
                obj._change_reason = _("Configuration import")
                obj.save()
            counts["created" if created else "updated" if changed else "unchanged"] += 1
            if section.model is BusinessCalendar and "days" in row:
                self.calendar_days(obj, row["days"], where)

    def calendar_days(self, calendar: BusinessCalendar, days: Any, where: str) -> None:
        for index, day in enumerate(days if isinstance(days, list) else []):
            if not isinstance(day, dict) or not day.get("date"):
                self.fail(f"{where}.days[{index}]", _("a date is required."))
                continue
            found = CalendarDay.objects.filter(calendar=calendar, date=day["date"]).first()
            obj = found or CalendarDay(calendar=calendar, date=day["date"])
            if found and (found.kind, found.name) == (day.get("kind"), day.get("name", "")):
                continue
            obj.kind, obj.name = day.get("kind"), day.get("name", "")
            try:
                obj.full_clean(validate_unique=False)
            except ValidationError as exc:
                self.fail(f"{where}.days[{index}]", "; ".join(exc.messages))
                continue
            obj.save()

    def sops(self, rows: Any) -> None:
        counts = self.counts.setdefault("sops", {"created": 0, "updated": 0, "unchanged": 0})
        for index, row in enumerate(rows if isinstance(rows, list) else []):
            where = f"sops[{index}]"
            category = Category.objects.filter(code=(row or {}).get("category")).first()
            if category is None:
                self.fail(
                    where,
                    _("unknown category “%(value)s”.") % {"value": (row or {}).get("category")},
                )
                continue
            current = Sop.objects.filter(category=category, is_current=True).first()
            base = (
                _SOP_DEFAULTS if current is None else {f: getattr(current, f) for f in SOP_FIELDS}
            )
            wanted = {f: row.get(f, base[f]) for f in SOP_FIELDS}
            if current is not None and all(getattr(current, f) == wanted[f] for f in SOP_FIELDS):
                counts["unchanged"] += 1
                continue
            # Editing an SOP makes a new version; complaints keep the version they used.
            version = (
                Sop.objects.filter(category=category)
                .order_by("-version")
                .values_list("version", flat=True)
                .first()
                or 0
            ) + 1
            sop = Sop(
                category=category, version=version, created_by=self.actor, is_current=True, **wanted
            )
            try:
                sop.full_clean(validate_unique=False, exclude=["is_current"])
            except ValidationError as exc:
                self.fail(where, "; ".join(exc.messages))
                continue
            if current is not None:
                current.is_current = False
                current.save(update_fields=["is_current"])
            sop.save()
            counts["created" if current is None else "updated"] += 1


def config_import(
    *, data: Any, actor: Any = None, dry_run: bool = False
) -> dict[str, dict[str, int]]:
    """Create or update the configuration described by `data` (see config_export).

    Returns {section: {"created", "updated", "unchanged"}}. Raises InvalidInput listing
    every problem (unknown references, invalid values) and writes nothing then.
    """
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise InvalidInput(
            _("This is not a configuration file of this product (version %(v)d).")
            % {"v": FORMAT_VERSION}
        )
    importer = _Importer(actor)
    with transaction.atomic():
        for section in SECTIONS:
            if section.name in data:
                importer.section(section, data[section.name])
        if "sops" in data:
            importer.sops(data["sops"])
        if importer.errors:
            raise InvalidInput(
                _("The configuration was not imported:") + "\n" + "\n".join(importer.errors[:50])
            )
        if dry_run:
            transaction.set_rollback(True)
    return importer.counts

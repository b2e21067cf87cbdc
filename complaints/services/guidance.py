"""Standard operating procedures (SOPs): one per category, versioned, and the checklist a
complaint records against one version.

Which SOP a complaint follows: the version its recorded checks were made against (a
checklist started under version 1 stays on version 1 after an admin saves version 2),
else the current SOP of its category or of the nearest ancestor category that has one.

Steps are numbered from 1, as people read them; `SopCheck.step` stores that number and
a snapshot of the step's text.

Lock order: the complaint row (checks), the category row (new versions). A check and a
new version never lock both, so they cannot deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import permissions, roles
from complaints.config_choices import category_chain, current_sop_for_chain
from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.models import Category, Complaint, ComplaintEvent, RemedyKind, Sop, SopCheck
from complaints.services.base import actor_user, record_event

Kind = ComplaintEvent.Kind
TITLE_MAX = Sop._meta.get_field("title").max_length
STEP_MAX = 500
STEPS_MAX = 50


# --- The category tree ---------------------------------------------------------------------


def category_chain_ids(complaint: Complaint) -> list[int]:
    """The complaint's category and its ancestors, nearest first ([] without a category).

    One query for the whole tree (small, configuration) instead of one per level;
    cached on the complaint object, since the SOP panel and the reply templates of the
    same page both ask.
    """
    cached = getattr(complaint, "_category_chain", None)
    if cached is not None and cached[0] == complaint.category_id:
        return cached[1]
    chain = category_chain(complaint.category_id)
    complaint._category_chain = (complaint.category_id, chain)
    return chain


# --- Reading -------------------------------------------------------------------------------


def _current_for_chain(chain: list[int]) -> Sop | None:
    return current_sop_for_chain(chain)


def _bound_sop(checks: list[SopCheck]) -> Sop | None:
    """The version the checks were made against (the latest one, should several exist:
    the service only ever checks against one)."""
    if not checks:
        return None
    return max(checks, key=lambda c: (c.checked_at, c.pk)).sop


def sop_for_complaint(complaint: Complaint) -> Sop | None:
    """The SOP version the complaint's checklist follows, or None."""
    latest = (
        SopCheck.objects.filter(complaint=complaint)
        .select_related("sop")
        .order_by("-checked_at", "-pk")
        .first()
    )
    if latest is not None:
        return latest.sop
    return _current_for_chain(category_chain_ids(complaint))


@dataclass(frozen=True)
class ChecklistStep:
    number: int
    text: str
    done: bool
    by: Any = None
    at: datetime | None = None


@dataclass(frozen=True)
class Checklist:
    sop: Sop
    steps: list[ChecklistStep]
    done_count: int
    # received_at + the SOP's time limit, when it has one.
    due_at: datetime | None

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def complete(self) -> bool:
        return self.done_count == len(self.steps)

    @property
    def remedy_labels(self) -> list[str]:
        return [
            str(RemedyKind(v).label) for v in self.sop.allowed_remedies if v in RemedyKind.values
        ]


def sop_checklist(complaint: Complaint) -> Checklist | None:
    """What the SOP panel shows: each step with done / by whom / when. At most three
    queries: the checks (with their SOP and who checked), then, when there are none,
    the category tree and the current SOPs of the chain."""
    checks = list(SopCheck.objects.filter(complaint=complaint).select_related("sop", "checked_by"))
    sop = _bound_sop(checks) or _current_for_chain(category_chain_ids(complaint))
    if sop is None:
        return None
    done = {c.step: c for c in checks if c.sop_id == sop.pk}
    steps = []
    for number, text in enumerate(sop.steps, start=1):
        check = done.get(number)
        steps.append(
            ChecklistStep(
                number=number,
                # The text as it was when checked: what the person actually confirmed.
                text=check.step_text if check else str(text),
                done=check is not None,
                by=check.checked_by if check else None,
                at=check.checked_at if check else None,
            )
        )
    due_at = (
        complaint.received_at + timedelta(hours=sop.time_limit_hours)
        if sop.time_limit_hours and complaint.received_at
        else None
    )
    return Checklist(sop=sop, steps=steps, done_count=sum(s.done for s in steps), due_at=due_at)


# --- The checklist -------------------------------------------------------------------------


def _require_edit(actor: Any, complaint: Complaint) -> None:
    if actor_user(actor) is None:
        # A check says which person confirmed the step (SopCheck.checked_by).
        raise ActionForbidden(_("SOP steps are ticked by a person."))
    if not permissions.can_view_complaint(actor, complaint):
        raise NotFound()
    if not permissions.can_edit_complaint(actor, complaint):
        raise ActionForbidden(_("You may not change this complaint's checklist."))


def _lock_complaint(complaint: Complaint) -> None:
    """Serialise checks of one complaint, so two first checks bind to the same version.
    No version check: ticking a step does not depend on what the complaint says."""
    if not Complaint.objects.select_for_update().filter(pk=complaint.pk).exists():
        raise NotFound()


def _step_number(sop: Sop, step: Any) -> int:
    try:
        number = int(step)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= len(sop.steps):
        raise InvalidInput(
            _("There is no step %(step)s in this SOP.") % {"step": step},
            fields={"step": [_("Choose a step of the checklist.")]},
        )
    return number


def _event_data(sop: Sop, number: int, checked: bool) -> dict[str, Any]:
    return {
        "sop": sop.pk,
        "sop_title": sop.title,
        "version": sop.version,
        "step": number,
        "checked": checked,
    }


@transaction.atomic
def sop_step_check(*, complaint: Complaint, actor: Any, step: int) -> SopCheck:
    """Record step `step` of the complaint's SOP as done. Checking a done step again
    changes nothing (a double submit is not an error)."""
    _require_edit(actor, complaint)
    _lock_complaint(complaint)
    sop = sop_for_complaint(complaint)
    if sop is None:
        raise InvalidInput(_("No SOP applies to this complaint."))
    number = _step_number(sop, step)
    text = str(sop.steps[number - 1])
    try:
        with transaction.atomic():  # a savepoint: the race loser keeps its transaction
            check = SopCheck.objects.create(
                complaint=complaint,
                sop=sop,
                step=number,
                step_text=text,
                checked_by=actor_user(actor),
                checked_at=timezone.now(),
            )
    except IntegrityError:
        # Checked already: by someone else, or by this user's second click. The unique
        # constraint decides, so two requests that both saw the step open are safe too.
        existing = SopCheck.objects.filter(complaint=complaint, sop=sop, step=number).first()
        if existing is None:
            raise
        return existing
    record_event(
        complaint,
        kind=Kind.SOP_STEP,
        actor=actor,
        body=_("Step %(step)d done: %(text)s") % {"step": number, "text": text},
        internal=True,
        data=_event_data(sop, number, True),
        at=check.checked_at,
    )
    return check


@transaction.atomic
def sop_step_uncheck(*, complaint: Complaint, actor: Any, step: int) -> bool:
    """Take back a done step. Returns whether anything changed (unchecking an open step
    is a no-op)."""
    _require_edit(actor, complaint)
    _lock_complaint(complaint)
    sop = sop_for_complaint(complaint)
    if sop is None:
        raise InvalidInput(_("No SOP applies to this complaint."))
    number = _step_number(sop, step)
    check = SopCheck.objects.filter(complaint=complaint, sop=sop, step=number).first()
    if check is None:
        return False
    check.delete()
    record_event(
        complaint,
        kind=Kind.SOP_STEP,
        actor=actor,
        body=_("Step %(step)d no longer done: %(text)s")
        % {"step": number, "text": check.step_text},
        internal=True,
        data=_event_data(sop, number, False),
    )
    return True


# --- Versions ------------------------------------------------------------------------------


def can_edit_sops(user: Any) -> bool:
    return roles.is_system(user) or roles.is_admin(user) or user.has_perm("complaints.add_sop")


def sop_clean_steps(steps: Any) -> list[str]:
    """Steps as a list of non-empty strings: from a list, or from text one step a line."""
    if isinstance(steps, str):
        steps = steps.splitlines()
    return [str(s).strip() for s in (steps or []) if str(s).strip()]


def sop_validate(
    *,
    title: str,
    steps: Any,
    allowed_remedies: Any,
    time_limit_hours: Any,
) -> dict[str, Any]:
    """The cleaned values, or InvalidInput naming each wrong field (the admin form
    calls this too, so both say the same)."""
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("Give the SOP a title.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("At most %(max)d characters.") % {"max": TITLE_MAX}]
    cleaned_steps = sop_clean_steps(steps)
    if not cleaned_steps:
        errors["steps"] = [_("An SOP needs at least one step.")]
    elif len(cleaned_steps) > STEPS_MAX:
        errors["steps"] = [_("At most %(max)d steps.") % {"max": STEPS_MAX}]
    elif any(len(s) > STEP_MAX for s in cleaned_steps):
        errors["steps"] = [_("Each step has at most %(max)d characters.") % {"max": STEP_MAX}]
    remedies = [str(r) for r in (allowed_remedies or [])]
    unknown = [r for r in remedies if r not in RemedyKind.values]
    if unknown:
        errors["allowed_remedies"] = [
            _("Unknown remedy types: %(types)s.") % {"types": ", ".join(unknown)}
        ]
    if time_limit_hours in ("", None):
        hours = None
    else:
        try:
            hours = int(time_limit_hours)
        except (TypeError, ValueError):
            hours = 0
        if hours < 1:
            errors["time_limit_hours"] = [_("A time limit is a whole number of hours, 1 or more.")]
    if errors:
        raise InvalidInput(_("The SOP could not be saved."), fields=errors)
    # In RemedyKind's order, without repeats.
    ordered = [v for v in RemedyKind.values if v in remedies]
    return {
        "title": title,
        "steps": cleaned_steps,
        "allowed_remedies": ordered,
        "time_limit_hours": hours,
    }


@transaction.atomic
def sop_save_version(
    *,
    category: Category,
    actor: Any,
    title: str,
    steps: Any,
    allowed_remedies: Any = (),
    time_limit_hours: Any = None,
    standard_wording: str = "",
) -> Sop:
    """Save the category's SOP as a new version and make it the only current one.

    Old versions are never edited: checks recorded against them stay meaningful.
    Saving exactly the current content again creates nothing and returns the current
    version. The category row is locked first, so two admins saving at once get
    versions n+1 and n+2 instead of a broken "one current version" constraint.
    """
    if not can_edit_sops(actor):
        raise ActionForbidden(_("Only administrators change SOPs."))
    values = sop_validate(
        title=title,
        steps=steps,
        allowed_remedies=allowed_remedies,
        time_limit_hours=time_limit_hours,
    )
    values["standard_wording"] = (standard_wording or "").strip()
    if not Category.objects.select_for_update().filter(pk=category.pk).exists():
        raise NotFound(_("No such category."))
    current = Sop.objects.filter(category=category, is_current=True).first()
    if current is not None and all(getattr(current, k) == v for k, v in values.items()):
        return current
    last = Sop.objects.filter(category=category).aggregate(last=Max("version"))["last"] or 0
    # A queryset update is fine here: SOPs have no field history, and the flag is the
    # only thing an old version ever changes.
    Sop.objects.filter(category=category, is_current=True).update(is_current=False)
    return Sop.objects.create(
        category=category,
        version=last + 1,
        is_current=True,
        created_by=actor_user(actor),
        **values,
    )

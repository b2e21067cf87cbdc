"""Receiving a complaint (受理): one record, a tracking number, an acknowledgment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.contacts import normalize_email, normalize_phone
from complaints.errors import InvalidInput
from complaints.models import (
    Channel,
    Complaint,
    ComplaintEvent,
    Customer,
    CustomerExternalId,
    Demand,
    StatusChange,
)
from complaints.services import audit, duplicates, notifications, triage, webhooks
from complaints.services.base import actor_user, record_event
from complaints.tracking import new_tracking_number

# Random codes collide rarely (25^5 per day); a few retries make it vanishingly rare.
_TRACKING_ATTEMPTS = 8


def _surviving(customer: Customer) -> Customer:
    """Follow merged_into to the customer record that is still in use."""
    seen = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = customer.merged_into
    return customer


def _external_id_owner(system: str, value: str) -> Customer | None:
    link = (
        CustomerExternalId.objects.select_related("customer")
        .filter(system=system, value=value)
        .first()
    )
    return _surviving(link.customer) if link is not None else None


def customer_find_or_create(
    *,
    name: str = "",
    phone: str = "",
    email: str = "",
    language: str = "",
    external_system: str = "",
    external_id: str = "",
) -> Customer:
    """The customer these contact details identify, or a new one.

    Matching, first hit wins: the external id (system + value), the normalised phone
    (+86 13800138000, 138-0013-8000 and ０１３８… are one number), the email address
    (case-insensitive). A customer merged into another is followed to the surviving
    record. Details we did not know yet (name, phone, email, language, the external
    id) are added to the match.

    When the details point at different customers (the phone is A's, the email B's)
    the first match wins and nothing is merged or copied across: a person decides.
    The returned instance carries `identity_conflicts` ({"email": B, …}), which
    complaint_create records as an internal note on the new complaint.

    Concurrency: two simultaneous first submissions with the same new phone or email
    may both miss and create two customers (there is no unique constraint on contact
    details: people share phones and mailboxes). That is accepted: both complaints are
    kept and an agent merges the customers (services.customers.customer_merge). The
    external id is unique, so a race on a new external id ends with one customer.
    """
    phone_n = normalize_phone(phone)
    email_n = normalize_email(email)
    system = (external_system or "").strip()[:50]
    value = (external_id or "").strip()[:200]
    if bool(system) != bool(value):
        raise InvalidInput(_("An external id needs both its system and its value."))
    if not phone_n and not email_n and not value:
        raise InvalidInput(_("A phone number or an email address is required."))
    name = (name or "").strip()[:200]

    matches: dict[str, Customer] = {}
    if value:
        owner = _external_id_owner(system, value)
        if owner is not None:
            matches["external_id"] = owner
    if phone_n:
        found = Customer.objects.filter(phone=phone_n).order_by("pk").first()
        if found is not None:
            matches["phone"] = _surviving(found)
    if email_n:
        found = Customer.objects.filter(email__iexact=email_n).order_by("pk").first()
        if found is not None:
            matches["email"] = _surviving(found)

    customer = next(iter(matches.values()), None)
    if customer is None:
        try:
            # A savepoint: losing the race on a new external id leaves the caller's
            # transaction usable, and the customer created here is rolled back.
            with transaction.atomic():
                customer = Customer.objects.create(
                    name=name, phone=phone_n, email=email_n, language=language
                )
                if value:
                    CustomerExternalId.objects.create(customer=customer, system=system, value=value)
            customer.identity_conflicts = {}
            return customer
        except IntegrityError:
            customer = _external_id_owner(system, value) if value else None
            if customer is None:
                raise
            matches["external_id"] = customer

    conflicts = {how: other for how, other in matches.items() if other.pk != customer.pk}
    # Fill in what the customer told us this time and we did not know yet, but never a
    # phone or email that identifies someone else.
    updates = []
    for field, new in (
        ("name", name),
        ("phone", "" if "phone" in conflicts else phone_n),
        ("email", "" if "email" in conflicts else email_n),
        ("language", language),
    ):
        if new and not getattr(customer, field):
            setattr(customer, field, new)
            updates.append(field)
    if updates:
        customer._change_reason = _("Contact details added at intake")
        customer.save(update_fields=updates)
    if value and "external_id" not in matches:
        try:
            with transaction.atomic():
                CustomerExternalId.objects.create(customer=customer, system=system, value=value)
        except IntegrityError:
            # Linked to someone at the same moment: that link stands, an agent decides.
            owner = _external_id_owner(system, value)
            if owner is not None and owner.pk != customer.pk:
                conflicts["external_id"] = owner
    customer.identity_conflicts = conflicts
    return customer


def _note_identity_conflicts(complaint: Complaint, customer: Customer, at: datetime) -> None:
    """Tell the agent that some contact details belong to another customer record."""
    conflicts = getattr(customer, "identity_conflicts", None) or {}
    if not conflicts:
        return
    labels = {
        "external_id": _("external id"),
        "phone": _("phone number"),
        "email": _("email address"),
    }
    lines = [
        _("The %(detail)s given also belongs to customer %(name)s (#%(id)s).")
        % {"detail": labels[how], "name": other, "id": other.pk}
        for how, other in conflicts.items()
    ]
    lines.append(_("If they are the same person, merge the customers."))
    record_event(
        complaint,
        kind=ComplaintEvent.Kind.NOTE_ADDED,
        actor=None,
        body="\n".join(lines),
        data={
            "identity_conflicts": {
                how: {"id": other.pk, "name": str(other)} for how, other in conflicts.items()
            }
        },
        at=at,
    )


def complaint_create(
    *,
    actor: Any,
    channel: str,
    customer: Customer,
    title: str,
    description: str,
    demand: str,
    demand_detail: str = "",
    order_number: str = "",
    product=None,
    category=None,
    language: str = "",
    received_at: datetime | None = None,
    repeat_of: Complaint | None = None,
) -> Complaint:
    """Record a new complaint and queue its acknowledgment to the customer.

    `repeat_of`: the earlier complaint this one follows up (the customer wrote on it
    after its reopen window); otherwise found by services.duplicates.

    Inside the same transaction: `repeat_of` is set before the first save (so the
    first history row has it) when the customer had a closed complaint about the same
    product or category shortly before, and possible duplicates of the customer's
    other complaints are flagged on both sides (services.duplicates).
    """
    title = (title or "").strip()
    description = (description or "").strip()
    if not title:
        raise InvalidInput(_("A title is required."))
    if not description:
        raise InvalidInput(_("Describe what happened."))
    if channel not in Channel.values:
        raise InvalidInput(_("Unknown channel: %(value)s.") % {"value": channel})
    if demand not in Demand.values:
        raise InvalidInput(_("Unknown demand: %(value)s.") % {"value": demand})
    received_at = received_at or timezone.now()
    conflicts_from = customer
    # A customer record merged into another is not used for new complaints.
    customer = _surviving(customer)

    with transaction.atomic():
        repeat_of = repeat_of or duplicates.repeat_of_for(
            customer=customer, product=product, category=category, received_at=received_at
        )
        complaint = None
        for _attempt in range(_TRACKING_ATTEMPTS):
            candidate = Complaint(
                tracking_number=new_tracking_number(received_at),
                title=title[:200],
                description=description,
                demand=demand,
                demand_detail=(demand_detail or "").strip(),
                channel=channel,
                order_number=(order_number or "").strip()[:64],
                language=language or customer.language,
                customer=customer,
                product=product,
                category=category,
                received_at=received_at,
                repeat_of=repeat_of,
            )
            candidate._history_user = actor_user(actor)
            candidate._change_reason = _("Received via %(channel)s") % {
                "channel": Channel(channel).label
            }
            try:
                # A savepoint, so a duplicate tracking number leaves the transaction usable.
                with transaction.atomic():
                    candidate.save()
            except IntegrityError:
                if Complaint.objects.filter(tracking_number=candidate.tracking_number).exists():
                    continue
                raise
            complaint = candidate
            break
        if complaint is None:
            raise RuntimeError("could not allocate a unique tracking number")
        receive = StatusChange(
            complaint=complaint,
            transition="receive",
            from_status="",
            to_status=complaint.status,
            actor=actor_user(actor),
            reason="",
            created_at=received_at,
        )
        audit.status_change_seal(receive)  # the first link of the audit chain
        receive.save()
        received_data: dict[str, Any] = {"channel": channel}
        if repeat_of is not None:
            received_data["repeat_of"] = {
                "id": repeat_of.pk,
                "tracking_number": repeat_of.tracking_number,
            }
        record_event(
            complaint,
            kind=ComplaintEvent.Kind.RECEIVED,
            actor=actor,
            body=description,
            internal=False,
            data=received_data,
            at=received_at,
        )
        _note_identity_conflicts(complaint, conflicts_from, received_at)
        duplicates.duplicates_flag(complaint=complaint)
        # What keyword triage proposes, kept for the agent (and for its accuracy).
        triage.triage_record_proposal(complaint=complaint, new=True)
        # Acknowledged at once: the message is in the outbox with the complaint.
        notifications.complaint_send_acknowledgment(complaint=complaint)
        webhooks.webhook_complaint_created(complaint=complaint)
    return complaint


MAX_DESCRIPTION = 10000


def _title_from(description: str) -> str:
    first = next((line.strip() for line in description.splitlines() if line.strip()), "")
    return first if len(first) <= 60 else first[:59] + "…"


def complaint_submit(
    *,
    channel: str,
    description: str,
    demand: str,
    name: str = "",
    phone: str = "",
    email: str = "",
    external_system: str = "",
    external_id: str = "",
    title: str = "",
    demand_detail: str = "",
    order_number: str = "",
    product=None,
    language: str = "",
    actor: Any = None,
    received_at: datetime | None = None,
) -> Complaint:
    """A complaint as a customer or a connector submits it (public form, API, email):
    validate every field with its own message, find or create the customer (matching
    on the external id, phone and email: see customer_find_or_create), create.

    Raises InvalidInput with `fields` {field: [messages]} when anything is wrong.
    """
    errors: dict[str, list[str]] = {}
    description = (description or "").strip()
    phone_n, email_n = normalize_phone(phone), normalize_email(email)
    if not description:
        errors.setdefault("description", []).append(_("Describe what happened."))
    elif len(description) > MAX_DESCRIPTION:
        errors.setdefault("description", []).append(
            _("Please keep the description under %(n)d characters.") % {"n": MAX_DESCRIPTION}
        )
    if (phone and not phone_n) or (phone_n and not 8 <= len(phone_n) - 1 <= 15):
        errors.setdefault("phone", []).append(_("This does not look like a phone number."))
    if email:
        try:
            validate_email(email_n)
        except ValidationError:
            errors.setdefault("email", []).append(_("Enter a valid email address."))
    system, value = (external_system or "").strip(), (external_id or "").strip()
    if value and not system:
        errors.setdefault("external_system", []).append(
            _("Say which system the external id comes from.")
        )
    if system and not value:
        errors.setdefault("external_id", []).append(_("The external id is missing."))
    if len(system) > 50:
        errors.setdefault("external_system", []).append(_("The system name is too long."))
    if len(value) > 200:
        errors.setdefault("external_id", []).append(_("The external id is too long."))
    if not phone_n and not email_n and not (system and value):
        errors.setdefault("phone", []).append(
            _("Give a phone number or an email address so we can reach you.")
        )
    if demand not in Demand.values:
        errors.setdefault("demand", []).append(_("Choose what you would like us to do."))
    if channel not in Channel.values:
        errors.setdefault("channel", []).append(_("Unknown channel."))
    if len((name or "").strip()) > 200:
        errors.setdefault("name", []).append(_("The name is too long."))
    if len((order_number or "").strip()) > 64:
        errors.setdefault("order_number", []).append(_("The order number is too long."))
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)

    with transaction.atomic():
        customer = customer_find_or_create(
            name=name,
            phone=phone_n,
            email=email_n,
            language=language,
            external_system=system,
            external_id=value,
        )
        complaint = complaint_create(
            actor=actor,
            channel=channel,
            customer=customer,
            title=(title or "").strip()[:200] or _title_from(description),
            description=description,
            demand=demand,
            demand_detail=demand_detail,
            order_number=order_number,
            product=product,
            language=language,
            received_at=received_at,
        )
        # Customer-submitted complaints are triaged at once when the rules are sure
        # (a category and a priority); otherwise they wait in the intake queue.
        triage.triage_auto_apply(complaint=complaint)
        return complaint

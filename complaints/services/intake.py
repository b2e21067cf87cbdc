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
from complaints.services.base import actor_user, record_event
from complaints.tracking import new_tracking_number

# Random codes collide rarely (25^5 per day); a few retries make it vanishingly rare.
_TRACKING_ATTEMPTS = 8


def customer_find_or_create(
    *, name: str = "", phone: str = "", email: str = "", language: str = ""
) -> Customer:
    """The customer with this phone or email, or a new one.

    Matching is on the normalised phone first, then email. (Full identity matching
    across channels and external ids is part of intake's own issue.)
    """
    phone_n = normalize_phone(phone)
    email_n = normalize_email(email)
    if not phone_n and not email_n:
        raise InvalidInput(_("A phone number or an email address is required."))
    customer = None
    if phone_n:
        customer = Customer.objects.filter(phone=phone_n).order_by("pk").first()
    if customer is None and email_n:
        customer = Customer.objects.filter(email=email_n).order_by("pk").first()
    if customer is None:
        return Customer.objects.create(
            name=(name or "").strip()[:200], phone=phone_n, email=email_n, language=language
        )
    # Fill in what the customer told us this time and we did not know yet.
    updates = []
    for field, value in (
        ("name", (name or "").strip()[:200]),
        ("phone", phone_n),
        ("email", email_n),
    ):
        if value and not getattr(customer, field):
            setattr(customer, field, value)
            updates.append(field)
    if updates:
        customer.save(update_fields=updates)
    return customer


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
) -> Complaint:
    """Record a new complaint and queue its acknowledgment to the customer."""
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

    with transaction.atomic():
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
        StatusChange.objects.create(
            complaint=complaint,
            transition="receive",
            from_status="",
            to_status=complaint.status,
            actor=actor_user(actor),
            reason="",
            created_at=received_at,
        )
        record_event(
            complaint,
            kind=ComplaintEvent.Kind.RECEIVED,
            actor=actor,
            body=description,
            internal=False,
            data={"channel": channel},
            at=received_at,
        )
        from complaints import tasks

        pk = complaint.pk
        transaction.on_commit(lambda: tasks.complaint_acknowledge.delay(pk), robust=True)
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
    validate every field with its own message, find or create the customer, create.

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
    if not phone_n and not email_n and not external_id:
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
        )
        if external_system and external_id:
            CustomerExternalId.objects.get_or_create(
                system=external_system[:50],
                value=external_id[:200],
                defaults={"customer": customer},
            )
        return complaint_create(
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

"""Masking of customers' phone numbers and emails in staff lists.

    {% load privacy_tags %}
    {{ customer.phone|mask_phone }}          138****8000 (always masked)
    {{ customer.email|mask_email }}          z***@example.com
    {{ customer.phone|contact_for:user }}    full for holders of
                                             complaints.view_personal_data, else masked
    {{ customer|customer_label:user }}       the name, else the masked email or phone

Names are never masked (a Chinese name like 张伟 is shown as written): agents greet
customers by name, and a name alone identifies nobody the way a number does.
"""

from __future__ import annotations

from django import template

from complaints.services.privacy import mask_email, mask_phone, may_view_personal_data

register = template.Library()

register.filter("mask_phone", mask_phone)
register.filter("mask_email", mask_email)


@register.filter
def contact_for(value: str, user) -> str:
    """The value in full for a user who may see personal data, masked for others."""
    if not value:
        return ""
    if may_view_personal_data(user):
        return value
    return mask_email(value) if "@" in value else mask_phone(value)


@register.filter
def customer_label(customer, user) -> str:
    """What to call the customer in a list: the name, else their email or phone
    (masked unless the user may see personal data), else the record number."""
    if customer is None:
        return ""
    if customer.name:
        return customer.name
    contact = customer.email or customer.phone
    if contact:
        return contact_for(contact, user)
    return f"#{customer.pk}"

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


def _span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        text = ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
        return text + (" " + _("%(h)dh") % {"h": hours} if hours else "")
    if hours:
        return _("%(h)dh %(m)02dm") % {"h": hours, "m": mins}
    return _("%(m)dm") % {"m": mins}


@register.filter
def time_left(deadline: datetime | None) -> str:
    """'3h 20m' before the deadline, 'overdue 2h 05m' after; '' without one."""
    if deadline is None:
        return ""
    seconds = (deadline - timezone.now()).total_seconds()
    if seconds < 0:
        return _("overdue %(span)s") % {"span": _span(seconds)}
    return _span(seconds)


@register.filter
def is_overdue(deadline: datetime | None) -> bool:
    return deadline is not None and deadline < timezone.now()


@register.filter
def age(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return _span((timezone.now() - moment).total_seconds())


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (pagination, sorting)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()


@register.simple_tag(takes_context=True)
def sort_query(context, field: str) -> str:
    """Query string sorting by `field`; again on the same column reverses it."""
    params = context["request"].GET.copy()
    current = params.get("ordering", "")
    params["ordering"] = f"-{field}" if current == field else field
    params.pop("page", None)
    return params.urlencode()

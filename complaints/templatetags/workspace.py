from datetime import datetime

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape as escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
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


@register.simple_tag
def queue_rows(page, user) -> SafeString:
    """The queue table's rows, written in Python: fifty rows of ten cells were most
    of a queue page's time in the template language. Every value is escaped here;
    the markup is what `_queue_table.html` wrote row by row before (the browser and
    view tests read it)."""
    from complaints.templatetags.privacy_tags import customer_label
    from complaints.workflow import ComplaintStatus

    rows = []
    now = timezone.now()
    # get_status_display builds a dict of the choices on every call.
    status_labels = {value: escape(str(label)) for value, label in ComplaintStatus.choices}
    for c in page:
        is_open = c.is_open
        due = c.resolution_due_at
        overdue = is_open and due is not None and due < now
        customer = c.customer
        vip = ' <span class="badge text-bg-warning">VIP</span>' if customer.is_vip else ""
        priority = (
            f'<span class="prio prio-{c.priority_id}">{escape(c.priority.code)}</span>'
            if c.priority_id is not None
            else "—"
        )
        category = escape(c.category.name) if c.category_id and c.category.name else "—"
        assignee = escape(str(c.assignee)) if c.assignee_id is not None else "—"
        number = escape(c.tracking_number)
        left = escape(time_left(due)) if is_open else ""
        rows.append(
            f'<tr class="{"overdue" if overdue else ""}" data-tracking="{number}">'
            f'<td><input type="checkbox" class="form-check-input row-check" name="ids" '
            f'value="{c.pk}" aria-label="{number}"></td>'
            f'<td><a href="{escape(reverse("complaints:staff-detail", args=[c.pk]))}">'
            f"{number}</a></td>"
            f'<td class="title">{escape(Truncator(c.title).chars(80))}</td>'
            f"<td>{escape(customer_label(customer, user))}{vip}</td>"
            f"<td>{category}</td>"
            f"<td>{priority}</td>"
            f'<td><span class="status status-{escape(c.status)}">'
            f"{status_labels.get(c.status) or escape(c.status)}</span></td>"
            f"<td>{assignee}</td>"
            f"<td>{escape(age(c.received_at))}</td>"
            f'<td class="time-left">{left}</td>'
            "</tr>"
        )
    if not rows:
        rows.append(
            '<tr><td colspan="10" class="text-center text-muted py-4">'
            f"{escape(_('No complaints here.'))}</td></tr>"
        )
    # Each piece above is escaped where it is written.
    return mark_safe("\n".join(rows))  # noqa: S308

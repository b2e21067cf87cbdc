"""The dashboard's long tables written in Python: a 30-day dashboard holds about two
thousand cells (five charts' tables, the team and agent tables), and in the template
language they were half of the page's time. Each value goes out as the template
language would write it: localized, then escaped (`_text`)."""

from django import template
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()


def _text(value) -> str:
    """`{{ value }}`: localized and escaped, as the template engine renders it."""
    return conditional_escape(localize(value))


@register.simple_tag
def chart_table_rows(table) -> SafeString:
    """The body rows of a chart's data table (`_chart.html`)."""
    table = table or {}
    unit = " %" if table.get("percent") else ""
    out = []
    for row in table.get("rows") or ():
        cells = []
        for cell in row["cells"]:
            value, link = cell.get("value"), cell.get("link")
            if value is None:
                cells.append('<td class="text-end">—</td>')
            elif link:
                cells.append(
                    f'<td class="text-end"><a href="{conditional_escape(link)}">'
                    f"{_text(value)}{unit}</a></td>"
                )
            else:
                cells.append(f'<td class="text-end">{_text(value)}{unit}</td>')
        out.append(
            f'<tr><th scope="row" class="fw-normal">{_text(row["label"])}</th>{"".join(cells)}</tr>'
        )
    if not out:
        out.append(f'<tr><td class="text-muted">{_text(_("Nothing in this period."))}</td></tr>')
    # Every value above is escaped where it is written.
    return mark_safe("\n".join(out))  # noqa: S308


@register.simple_tag
def group_table_rows(rows) -> SafeString:
    """The body rows of the team and agent tables (`_table.html`)."""
    report = _text(_("Monthly report"))
    out = []
    for row in rows or ():
        report_link = row.get("report_link")
        extra = (
            f' <a href="{conditional_escape(report_link)}" class="small fw-normal ms-1" '
            f"data-report-link>{report}</a>"
            if report_link
            else ""
        )
        compliance = row.get("resolution_compliance")
        csat = row.get("csat")
        median = row.get("resolution_median_text")
        out.append(
            f'<tr data-row="{_text(row["pk"])}">'
            f'<th scope="row"><a href="{conditional_escape(row["link"])}">'
            f"{_text(row['name'])}</a>{extra}</th>"
            f'<td class="text-end received">{_text(row["received"])}</td>'
            f'<td class="text-end resolved">{_text(row["resolved"])}</td>'
            f'<td class="text-end backlog">{_text(row["backlog"])}</td>'
            f'<td class="text-end">{"—" if compliance is None else _text(compliance) + " %"}</td>'
            '<td class="text-end">'
            + (
                "—"
                if csat is None
                else f'{_text(csat)} <small class="text-muted">({_text(row["answers"])})</small>'
            )
            + "</td>"
            f'<td class="text-end">{_text(median) if median else "—"}</td>'
            "</tr>"
        )
    if not out:
        out.append(
            f'<tr><td colspan="7" class="text-muted">{_text(_("Nothing in this period."))}</td></tr>'
        )
    # Every value above is escaped where it is written.
    return mark_safe("\n".join(out))  # noqa: S308

"""The queues: lists of complaints with filters, sorting and pagination."""

from django.http import Http404
from django.shortcuts import render
from django.urls import path

from complaints import selectors
from complaints.errors import NotFound
from complaints.filters import ComplaintFilter
from complaints.models import SavedFilter
from complaints.paginators import CappedPaginator
from complaints.views.common import staff_required

PAGE_SIZES = (25, 50, 100)
# What complaints/templatetags/workspace.py:queue_rows reads of a row.
ROW_RELATED = ("customer", "category", "priority", "assignee")
ROW_FIELDS = (
    "tracking_number",
    "title",
    "status",
    "received_at",
    "resolution_due_at",
    "customer__name",
    "customer__email",
    "customer__phone",
    "customer__tier",
    "category__name",
    "priority__code",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__display_name",
)


def _page_size(request) -> int:
    try:
        size = int(request.GET.get("size", 50))
    except ValueError:
        return 50
    return size if size in PAGE_SIZES else 50


@staff_required
def queue(request, slug: str = "mine"):
    try:
        complaints = selectors.queue_complaints(user=request.user, slug=slug)
    except NotFound:
        raise Http404 from None
    filterset = ComplaintFilter(request.GET or None, queryset=complaints)
    rows = filterset.qs if filterset.is_bound and filterset.is_valid() else complaints
    # Only the columns a row shows (the `queue_rows` tag): a complaint's text and
    # closed-loop fields made each row several kilobytes to fetch and build.
    rows = rows.select_related(None).select_related(*ROW_RELATED).only(*ROW_FIELDS)
    paginator = CappedPaginator(rows, _page_size(request))
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "current_queue": slug,
        "queue": selectors.QUEUES_BY_SLUG[slug],
        "filter": filterset,
        "page": page,
        "page_sizes": PAGE_SIZES,
        "saved_filters": SavedFilter.objects.filter(user=request.user, queue=slug),
    }
    template = (
        "complaints/staff/_queue_table.html"
        if request.htmx and not request.htmx.boosted
        else "complaints/staff/queue.html"
    )
    return render(request, template, context)


urlpatterns = [
    path("", queue, name="staff-home"),
    path("queue/<slug:slug>/", queue, name="staff-queue"),
]

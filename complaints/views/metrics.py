"""`/metrics` in the Prometheus text format, for operators.

Protected by a bearer token (settings.METRICS_TOKEN); without the setting the
endpoint does not exist (404), so nothing leaks by default. Every figure is one
cheap aggregate query on indexed columns; no per-complaint work.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from complaints.models import (
    CallbackTask,
    Complaint,
    Escalation,
    ExportJob,
    ImportJob,
    OutboxMessage,
)
from complaints.workflow import OPEN_STATES, ComplaintStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _authorised(request) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "") or ""
    if not token:
        raise Http404
    header = request.headers.get("Authorization", "")
    scheme, _sep, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def _family(lines: list[str], name: str, help_text: str, samples) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} gauge")
    for labels, value in samples:
        label_text = ",".join(f'{k}="{v}"' for k, v in labels.items())
        lines.append(f"{name}{{{label_text}}} {value}" if label_text else f"{name} {value}")


def metrics_text() -> str:
    now = timezone.now()
    lines: list[str] = []
    by_status = dict(
        Complaint.objects.filter(status__in=OPEN_STATES)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    _family(
        lines,
        "complaints_open",
        "Open complaints by status.",
        [({"status": s}, by_status.get(s, 0)) for s in ComplaintStatus.values if s in OPEN_STATES],
    )
    open_ = Q(status__in=OPEN_STATES)
    breaches = Complaint.objects.aggregate(
        response=Count(
            "id", filter=open_ & Q(first_response_at__isnull=True, response_due_at__lt=now)
        ),
        resolution=Count("id", filter=open_ & Q(resolution_due_at__lt=now)),
    )
    _family(
        lines,
        "complaints_sla_breached",
        "Open complaints past an SLA deadline.",
        [({"deadline": k}, v) for k, v in sorted(breaches.items())],
    )
    outbox = dict(
        OutboxMessage.objects.order_by()
        .values("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    _family(
        lines,
        "complaints_outbox_messages",
        "Customer messages in the outbox by state (pending is the backlog).",
        [({"state": s}, outbox.get(s, 0)) for s in OutboxMessage.State.values],
    )
    _family(
        lines,
        "complaints_escalations_open",
        "Escalations not yet settled.",
        [({}, Escalation.objects.filter(settled_at__isnull=True).count())],
    )
    _family(
        lines,
        "complaints_callbacks_due",
        "Open call-backs whose next attempt is due.",
        [
            (
                {},
                CallbackTask.objects.filter(
                    status=CallbackTask.Status.OPEN, next_attempt_at__lte=now
                ).count(),
            )
        ],
    )
    _family(
        lines,
        "complaints_jobs_running",
        "Import and export jobs in progress.",
        [
            ({"kind": "import"}, ImportJob.objects.filter(status=ImportJob.Status.RUNNING).count()),
            ({"kind": "export"}, ExportJob.objects.filter(status=ExportJob.Status.RUNNING).count()),
        ],
    )
    return "\n".join(lines) + "\n"


@never_cache
@require_GET
def metrics(request):
    if not _authorised(request):
        response = HttpResponse("unauthorised\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE)


urlpatterns = [path("metrics", metrics, name="metrics")]

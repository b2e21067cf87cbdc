"""A small world of team-A objects for the access matrix: one of every kind a URL can
name, made through the real services, each carrying a marker that must never show
up in an answer to someone who may not see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from complaints import roles
from complaints.models import (
    DuplicateFlag,
    ExportJob,
    ImportJob,
    InboundMessage,
    Notification,
    ReplyTemplate,
    SavedFilter,
    SurveyResponse,
    TrendWarning,
)
from complaints.public_links import status_token
from complaints.services import (
    attachments,
    callbacks,
    collaboration,
    escalation,
    improvements,
    inapp,
    remedies,
    survey,
)
from complaints.services.messages import complaint_add_note
from tests.factories import CustomerFactory, MembershipFactory, TeamFactory, UserFactory

MARKER = "Matrixsecret"
CUSTOMER_MARKER = "Zebediahmatrix"


@dataclass
class World:
    org: Any
    complaint: Any
    objects: dict[str, Any] = field(default_factory=dict)
    # Actors by name (None is anonymous).
    actors: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def make_complaint_for(org):
    """tests/conftest.py's make_complaint, usable outside a function-scoped fixture."""
    from complaints.models import Channel, Demand
    from complaints.services import intake
    from tests.conftest import _path

    def make(state: str = "new", *, customer=None, **kwargs):
        fields = {
            "actor": None,
            "channel": Channel.WEB,
            "customer": customer or CustomerFactory(),
            "title": "Kettle stopped working",
            "description": "The kettle broke after three days.",
            "demand": Demand.REPLACEMENT,
            **kwargs,
        }
        complaint = intake.complaint_create(**fields)
        for service, make_kwargs in _path(org, state):
            service(complaint=complaint, **make_kwargs(complaint))
        return complaint

    return make


def build(org, make_complaint) -> World:
    customer = CustomerFactory(name=f"{CUSTOMER_MARKER} Wang")
    complaint = make_complaint("in_progress", customer=customer, title=f"{MARKER} kettle")
    twin = make_complaint("in_progress", customer=customer, title=f"{MARKER} kettle again")
    resolved = make_complaint("resolved", title=f"{MARKER} resolved")
    closed = make_complaint("closed", title=f"{MARKER} closed")

    # A department that was never asked about team A's complaints, with its responder.
    legal = TeamFactory(name="Legal", code="legal", kind="department")
    outsider_responder = UserFactory(username="legal", role=roles.RESPONDER)
    MembershipFactory(team=legal, user=outsider_responder)

    note = complaint_add_note(complaint=complaint, actor=org.agent, body=f"{MARKER} note")
    attachment = attachments.attachment_add(
        complaint=complaint,
        actor=org.agent,
        upload=SimpleUploadedFile("photo.txt", f"{MARKER} file".encode()),
        internal=False,
    )
    request = collaboration.collaboration_ask(
        complaint=complaint,
        actor=org.agent,
        department=org.department,
        question=f"{MARKER} question",
    )
    remedy = remedies.remedy_propose(
        complaint=complaint,
        actor=org.agent,
        kind="refund",
        amount="5000",
        description=f"{MARKER} refund",
    )
    raised = escalation.escalation_open(
        complaint=complaint, actor=org.supervisor, reason="manual", note=f"{MARKER} escalated"
    )
    action = improvements.improvement_create(
        actor=org.supervisor,
        complaints=[complaint],
        title=f"{MARKER} improvement",
        problem="Thermostats fail",
        owner_team=org.team,
        due_date=improvements.today() + timedelta(days=14),
    )
    callback = callbacks.callback_open(complaint=resolved)
    notification = inapp.notify(
        user=org.agent, kind=Notification.Kind.MENTIONED, complaint=complaint, text=f"{MARKER} hi"
    )
    saved = SavedFilter.objects.create(
        user=org.agent, name=f"{MARKER} filter", queue="team", query="status=new"
    )
    # Intake may have flagged the pair already.
    flag, _ = DuplicateFlag.objects.get_or_create(
        complaint=complaint,
        other=twin,
        defaults={"reason": DuplicateFlag.Reason.values[0], "score": 0.9},
    )
    warning = TrendWarning.objects.create(
        week=timezone.localdate() - timedelta(days=timezone.localdate().weekday()),
        kind=TrendWarning.Kind.CATEGORY,
        category=org.category,
        team=org.team,
        count=9,
        baseline_weeks=4,
        baseline_mean=1.0,
        baseline_std=0.5,
        threshold=3.0,
    )
    inbound = InboundMessage.objects.create(
        source=InboundMessage.Source.values[0],
        dedupe_key="matrix@example.com",
        raw=b"Subject: hello\r\n\r\nbody",
        size=24,
        subject="Matrix inbound",
        status=InboundMessage.Status.REVIEW,
    )
    export = ExportJob(
        created_by=org.agent, source="queue:team", format="csv", status=ExportJob.Status.DONE
    )
    export.file.save("matrix.csv", ContentFile(f"{MARKER},{CUSTOMER_MARKER}\n".encode()))
    template = ReplyTemplate.objects.create(name="Matrix", body="Dear {customer_name}")
    upload = ImportJob(created_by=org.supervisor, original_name="matrix.csv", sha256="0" * 64)
    upload.file.save("matrix.csv", ContentFile(f"title,phone\n{MARKER},13800138000\n".encode()))
    return World(
        org=org,
        complaint=complaint,
        objects={
            "complaint": complaint,
            "note": note,
            "attachment": attachment,
            "collaboration": request,
            "remedy": remedy,
            "escalation": raised,
            "improvement": action,
            "callback": callback,
            "notification": notification,
            "saved_filter": saved,
            "duplicate_flag": flag,
            "trend_warning": warning,
            "inbound": inbound,
            "customer": customer,
            "survey_response": SurveyResponse.objects.get(complaint=closed),
            "resolved": resolved,
            "export_job": export,
            "import_job": upload,
            "reply_template": template,
            "team": org.team,
        },
        actors={
            "anonymous": None,
            "outsider": org.outsider,
            "agent_b": org.agent_b,
            "responder_unasked": outsider_responder,
            "agent_a": org.agent,
            "responder_asked": org.responder,
            "supervisor": org.supervisor,
            "admin": org.admin,
        },
        tokens={
            "status": status_token(complaint),
            "survey": survey.survey_token(resolved),
            "number": complaint.tracking_number,
        },
    )

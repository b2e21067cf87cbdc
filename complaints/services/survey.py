"""The satisfaction survey (满意度回访) after a resolution.

At resolution the customer gets a signed, expiring link bound to the complaint and
to its handling round (`cycle` = the complaint's reopen_count): once the complaint is
reopened the old link no longer verifies, and a round is answered once (a database
constraint). The answer decides what happens next, as the system:

- satisfied (rating above COMPLAINT_SURVEY_THRESHOLD and the problem solved): close;
- otherwise: reopen for a second handling (二次处理) and escalate to the supervisor
  with the reason `unsatisfied`.

The customer's comment goes on the timeline as a customer message. Everything in one
transaction.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints import roles
from complaints.errors import InvalidInput
from complaints.models import (
    Complaint,
    ComplaintEvent,
    Escalation,
    LoopOutcome,
    SurveyResponse,
)
from complaints.models.survey import MAX_COMMENT
from complaints.services import webhooks
from complaints.services.base import locked, record_event
from complaints.tracking import clean_tracking_number
from complaints.workflow import ComplaintStatus

SALT = "complaints.survey"
DEFAULT_DAYS = 14
DEFAULT_THRESHOLD = 2

# The one answer for every link that cannot be used (tampered, expired, another
# round, already answered, unknown): nobody learns which.
NEUTRAL = gettext_lazy(
    "This survey link is not valid any more. It may have expired or been used "
    "already. Thank you for your time."
)


def survey_days() -> int:
    return int(getattr(settings, "COMPLAINT_SURVEY_DAYS", DEFAULT_DAYS))


def survey_threshold() -> int:
    return int(getattr(settings, "COMPLAINT_SURVEY_THRESHOLD", DEFAULT_THRESHOLD))


def _signer(complaint_id: int, cycle: int) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"{SALT}:{complaint_id}:{cycle}")


def survey_token(complaint: Complaint) -> str:
    """`<tracking number>:<timestamp>:<signature>`, for the complaint's current round."""
    return _signer(complaint.pk, complaint.reopen_count).sign(complaint.tracking_number)


def is_satisfied(*, rating: int, solved: bool) -> bool:
    return bool(solved) and rating > survey_threshold()


def survey_check(token: str) -> Complaint:
    """The complaint a valid token names, while its survey can still be answered.

    Tampered, expired, malformed, another round's, already answered or no longer
    resolved: InvalidInput with the one neutral message.
    """
    refused = InvalidInput(NEUTRAL)
    parts = (token or "").rsplit(":", 2)
    if len(parts) != 3 or clean_tracking_number(parts[0]) != parts[0]:
        raise refused
    # The unverified number only picks the key to check the signature with.
    complaint = (
        Complaint.objects.select_related("customer").filter(tracking_number=parts[0]).first()
    )
    if complaint is None:
        raise refused
    try:
        value = _signer(complaint.pk, complaint.reopen_count).unsign(
            token, max_age=timedelta(days=survey_days())
        )
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        raise refused from None
    if value != complaint.tracking_number:
        raise refused
    if complaint.status != ComplaintStatus.RESOLVED or _answered(complaint):
        raise refused
    return complaint


def survey_answered(complaint: Complaint) -> bool:
    """Whether the customer answered the survey of the complaint's current round."""
    return _answered(complaint)


def _answered(complaint: Complaint) -> bool:
    return SurveyResponse.objects.filter(
        complaint_id=complaint.pk, cycle=complaint.reopen_count
    ).exists()


def _clean_rating(rating) -> int:
    try:
        value = int(rating)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise InvalidInput(
            _("Choose a rating from 1 to 5."),
            fields={"rating": [_("Choose a rating from 1 to 5.")]},
        )
    return value


def survey_submit(
    *,
    complaint: Complaint,
    rating: int,
    solved: bool,
    comment: str = "",
    cycle: int | None = None,
) -> SurveyResponse:
    """Record the customer's answer for the current round and act on it.

    `cycle`, when given (the round the link was made for), must still be the
    complaint's current round.
    """
    rating = _clean_rating(rating)
    solved = bool(solved)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        message = _("The comment is too long (at most %(n)d characters).") % {"n": MAX_COMMENT}
        raise InvalidInput(message, fields={"comment": [message]})
    # Late imports: transitions and escalation import this module's neighbours.
    from complaints.services.escalation import escalation_open
    from complaints.services.transitions import complaint_close, complaint_reopen

    try:
        with transaction.atomic():
            with locked(complaint):
                current = complaint.reopen_count
                if complaint.status != ComplaintStatus.RESOLVED or (
                    cycle is not None and cycle != current
                ):
                    raise InvalidInput(NEUTRAL)
                try:
                    with transaction.atomic():
                        response = SurveyResponse.objects.create(
                            complaint=complaint,
                            cycle=current,
                            rating=rating,
                            solved=solved,
                            comment=comment,
                            answered_at=timezone.now(),
                        )
                except IntegrityError:
                    raise InvalidInput(_("This survey has already been answered.")) from None
                webhooks.webhook_survey_answered(response=response)
            summary = _("survey: %(rating)d/5, problem solved: %(solved)s") % {
                "rating": rating,
                "solved": _("yes") if solved else _("no"),
            }
            if is_satisfied(rating=rating, solved=solved):
                complaint_close(
                    complaint=complaint,
                    actor=roles.SYSTEM,
                    outcome=LoopOutcome.SURVEY,
                    reason=_("Customer satisfied (survey: %(rating)d/5)") % {"rating": rating},
                )
            else:
                reason = _("Customer not satisfied (%(summary)s)") % {"summary": summary}
                if comment:
                    reason = f"{reason}: {comment}"
                complaint_reopen(complaint=complaint, actor=roles.SYSTEM, reason=reason)
                escalation_open(
                    complaint=complaint,
                    actor=roles.SYSTEM,
                    reason=Escalation.Reason.UNSATISFIED,
                    note=comment,
                )
            if comment:
                # Written directly, not through complaint_record_customer_message: that
                # would reopen the complaint the customer has just closed.
                record_event(
                    complaint,
                    kind=ComplaintEvent.Kind.CUSTOMER_MESSAGE,
                    actor=None,
                    body=comment,
                    internal=False,
                    data={"survey": {"cycle": current, "rating": rating, "solved": solved}},
                    at=response.answered_at,
                )
    except Exception:
        # Whatever ran was rolled back: the in-memory copy may be ahead of the row.
        with contextlib.suppress(Complaint.DoesNotExist):
            complaint.refresh_from_db()
        raise
    return response

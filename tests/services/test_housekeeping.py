from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.models import IdempotencyKey, Presence
from complaints.services.housekeeping import housekeeping_purge

pytestmark = pytest.mark.django_db


def test_purges_only_what_expired(org, make_complaint):
    complaint = make_complaint("new")
    old = IdempotencyKey.objects.create(scope="web-form", key="old", complaint=complaint)
    fresh = IdempotencyKey.objects.create(scope="web-form", key="fresh", complaint=complaint)
    Presence.objects.create(
        complaint=complaint, user=org.agent, seen_at=timezone.now() - timedelta(hours=2)
    )
    Presence.objects.create(complaint=complaint, user=org.agent2, seen_at=timezone.now())
    later = timezone.now() + timedelta(days=7, minutes=1)
    IdempotencyKey.objects.filter(pk=fresh.pk).update(created_at=timezone.now() + timedelta(days=1))
    result = housekeeping_purge(now=later)
    assert result == {"idempotency_keys": 1, "presences": 2, "export_jobs": 0}
    assert not IdempotencyKey.objects.filter(pk=old.pk).exists()
    assert IdempotencyKey.objects.filter(pk=fresh.pk).exists()

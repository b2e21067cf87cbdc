"""The replica router: only reads inside replica_reads() go to the replica, and
only when one is configured; writes, transactions and migrations stay on default."""

import pytest
from django.db import transaction

from complaints.models import Complaint
from config.routers import AnalyticsReplicaRouter, replica_reads, use_replica

router = AnalyticsReplicaRouter()


@pytest.fixture
def with_replica(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": dict(settings.DATABASES["default"])}


def test_without_a_replica_everything_reads_from_default():
    with replica_reads():
        assert router.db_for_read(Complaint) is None


def test_analytics_reads_go_to_the_replica(with_replica):
    assert router.db_for_read(Complaint) is None
    with replica_reads():
        assert router.db_for_read(Complaint) == "replica"
        assert router.db_for_write(Complaint) is None
    assert router.db_for_read(Complaint) is None


def test_the_decorator_routes_only_while_the_view_runs(with_replica):
    seen = []
    view = use_replica(lambda request: seen.append(router.db_for_read(Complaint)))
    view(None)
    assert seen == ["replica"]
    assert router.db_for_read(Complaint) is None


@pytest.mark.django_db
def test_reads_inside_a_transaction_stay_on_default(with_replica):
    with transaction.atomic(), replica_reads():
        assert router.db_for_read(Complaint) is None


def test_the_replica_is_never_migrated():
    assert router.allow_migrate("replica", "complaints") is False
    assert router.allow_migrate("default", "complaints") is None

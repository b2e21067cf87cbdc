"""The queue's rows (written in Python by the `queue_rows` tag): every cell, escaped."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from complaints.models import Complaint
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


class _Rows(HTMLParser):
    """Each body row of the queue table: its attributes and its cells' text."""

    def __init__(self):
        super().__init__()
        self.rows: list[dict] = []
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append({"attrs": dict(attrs), "cells": [], "links": []})
        elif self._in_body and tag == "td":
            self._cell = []
        elif self._in_body and tag == "a" and self.rows:
            self.rows[-1]["links"].append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1]["cells"].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _rows(response) -> list[dict]:
    assert response.status_code == 200
    parser = _Rows()
    parser.feed(response.content.decode())
    return parser.rows


def test_every_cell_of_a_row(client, org, make_complaint):
    vip = CustomerFactory(name="<b>Wang</b> & Co", tier="vip")
    complaint = make_complaint("in_progress", customer=vip, title="<script>x</script> " + "长" * 90)
    Complaint.objects.filter(pk=complaint.pk).update(
        resolution_due_at=timezone.now() - timedelta(hours=2, minutes=5)
    )
    client.force_login(org.supervisor)
    response = client.get("/queue/all/")
    body = response.content.decode()
    assert "<script>x" not in body and "<b>Wang" not in body
    (row,) = _rows(response)
    complaint.refresh_from_db()
    assert row["attrs"] == {"class": "overdue", "data-tracking": complaint.tracking_number}
    assert row["links"] == [f"/complaints/{complaint.pk}/"]
    number, title, customer, category, priority, status, assignee, age, left = row["cells"][1:]
    assert number == complaint.tracking_number
    assert title == ("<script>x</script> " + "长" * 90)[:79] + "…"
    assert customer == "<b>Wang</b> & Co VIP"
    assert category == (complaint.category.name if complaint.category else "—")
    assert priority == (complaint.priority.code if complaint.priority else "—")
    assert status == complaint.get_status_display()
    assert assignee == str(complaint.assignee)
    assert age.endswith("m")
    assert left.startswith("overdue 2h 0")
    assert f'value="{complaint.pk}"' in body


def test_a_new_complaint_shows_dashes_and_no_overdue_mark(client, org, make_complaint):
    complaint = make_complaint("new", customer=CustomerFactory(name="", email="", phone=""))
    Complaint.objects.filter(pk=complaint.pk).update(
        category=None, priority=None, resolution_due_at=timezone.now() + timedelta(days=2)
    )
    client.force_login(org.supervisor)
    (row,) = _rows(client.get("/queue/all/"))
    assert row["attrs"]["class"] == ""
    cells = row["cells"]
    assert cells[3] == f"#{complaint.customer_id}"  # no name, no contact: the record
    assert cells[4:6] == ["—", "—"]
    assert cells[7] == "—"  # nobody assigned
    assert cells[9].startswith(("1 day", "2 days"))


def test_a_closed_complaint_has_no_time_left(client, org, make_complaint):
    make_complaint("closed")
    client.force_login(org.supervisor)
    (row,) = _rows(client.get("/queue/all/?status=closed"))
    assert row["attrs"]["class"] == ""
    assert row["cells"][9] == ""


def test_an_empty_queue_says_so(client, org):
    client.force_login(org.supervisor)
    (row,) = _rows(client.get("/queue/all/"))
    assert row["cells"] == ["No complaints here."]

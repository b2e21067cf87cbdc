"""The import services on small files: reading, mapping, checking, importing."""

import io

import pytest
from django.utils import timezone

from complaints.errors import InvalidInput
from complaints.models import (
    Channel,
    Complaint,
    ComplaintEvent,
    ImportJob,
    LoopOutcome,
)
from complaints.services import imports
from tests.imports import sheets

pytestmark = pytest.mark.django_db

HEAD = ["编号", "标题", "内容", "姓名", "电话", "邮箱", "日期", "状态", "分类", "处理结果", "根因"]


def _run(upload, data, name="x.csv", actor=None, mapping=None):
    job = upload(data, name, actor)
    job = imports.import_mapping_set(job=job, mapping=mapping or job.mapping, actor=actor)
    job = imports.import_check(job=job)
    job = imports.import_start(job=job, actor=actor)
    return imports.import_run(job=job, actor=actor)


def test_mapping_is_guessed_from_chinese_and_english_headers():
    guessed = imports.mapping_guess([*sheets.HEADERS_ZH, "Order No"])
    assert guessed["标题"] == "title"
    assert guessed["投诉内容"] == "description"
    assert guessed["手机"] == "phone"
    assert guessed["投诉日期"] == "received_at"
    assert guessed["处理结果"] == "resolution"
    assert guessed["根因"] == "root_cause"
    assert guessed["Order No"] == "order_number"
    english = imports.mapping_guess(sheets.HEADERS_EN)
    assert english["Description"] == "description" and english["Root cause"] == "root_cause"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_csv_is_read_in_any_common_encoding(encoding):
    data = "标题;电话\n屏幕碎了;13800138000\n".encode(encoding)
    with imports.import_read(io.BytesIO(data)) as source:
        assert source.headers == ["标题", "电话"]
        assert list(source.rows()) == [["屏幕碎了", "13800138000"]]


def test_xlsx_is_streamed_and_numbers_become_text_friendly():
    data = sheets.xlsx_bytes(["标题", "电话"], [["A", 13800138000], [None, None], ["B", ""]])
    with imports.import_read(io.BytesIO(data)) as source:
        assert list(source.rows()) == [["A", 13800138000], ["B", ""]]


def test_a_file_without_header_is_refused():
    with pytest.raises(InvalidInput):
        imports.import_read(io.BytesIO(b"\n\n"))


def test_dry_run_lists_each_bad_row_in_plain_words_and_writes_nothing(org, upload):
    data = sheets.csv_bytes(
        HEAD,
        [
            [
                "1",
                "屏幕碎了",
                "收到就碎",
                "张三",
                "13800138000",
                "",
                "2024-03-05",
                "新建",
                "quality",
                "",
                "",
            ],
            ["2", "", "x", "李四", "", "", "2024-03-05", "", "quality", "", ""],
            ["3", "t", "x", "王五", "12", "", "上周", "搁置", "玄学", "", ""],
            ["4", "t", "x", "", "13800138001", "", "2024/3/5", "已结案", "", "", ""],
        ],
    )
    job = upload(data, "x.csv")
    job = imports.import_mapping_set(job=job, mapping=job.mapping, actor=org.admin)
    job = imports.import_check(job=job)
    assert job.status == ImportJob.Status.CHECKED
    assert (job.total_rows, job.created_count, job.error_count) == (4, 1, 3)
    messages = {(e["row"], e["column"]): e["message"] for e in job.errors}
    assert messages[(3, "电话")] == "No contact: give a phone number or an email address."
    assert messages[(4, "电话")] == "“12” is not a phone number."
    assert "is not a date" in messages[(4, "日期")]
    assert messages[(4, "状态")] == "Unknown status “搁置”."
    assert messages[(4, "分类")] == "Unknown category “玄学”."
    assert messages[(5, "处理结果")] == "A resolved or closed complaint needs its resolution."
    assert not Complaint.objects.exists()


def test_closed_rows_keep_dates_and_state_with_an_honest_override(org, upload):
    data = sheets.csv_bytes(
        HEAD,
        [
            [
                "A-1",
                "漏发配件",
                "少了充电器",
                "张三",
                "138 0013 8000",
                "",
                "2023-05-06 10:20",
                "已结案",
                "quality",
                "已补发",
                "物流",
            ]
        ],
    )
    job = _run(upload, data, "old-helpdesk.csv", actor=org.admin)
    assert (job.created_count, job.error_count) == (1, 0)
    c = Complaint.objects.get()
    assert c.status == "closed" and c.channel == Channel.IMPORTED
    assert timezone.localtime(c.received_at).strftime("%Y-%m-%d %H:%M") == "2023-05-06 10:20"
    assert c.tracking_number.split("-")[1] == "20230506"
    assert c.loop_outcome == LoopOutcome.OVERRIDE and c.root_cause == "logistics"
    assert "old-helpdesk.csv" in c.status_reason
    assert c.customer.phone == "+8613800138000"
    assert c.import_key == "id:A-1"
    change = c.status_changes.get()
    assert (change.transition, change.from_status, change.to_status) == ("import", "", "closed")
    assert change.actor == org.admin
    record = c.history.get()
    assert record.history_change_reason == "Imported from old-helpdesk.csv, row 2"
    assert record.history_user == org.admin
    kinds = set(c.events.values_list("kind", flat=True))
    assert kinds == {ComplaintEvent.Kind.RECEIVED, ComplaintEvent.Kind.STATUS_CHANGED}
    # History: no acknowledgment goes to the customer, no SLA clock starts.
    assert (
        not c.customer.outbox_messages.exists() if hasattr(c.customer, "outbox_messages") else True
    )
    assert c.response_due_at is None


def test_owned_states_need_a_known_assignee(org, upload):
    data = sheets.csv_bytes(
        [*HEAD, "处理人"],
        [
            [
                "1",
                "t",
                "x",
                "",
                "13800138000",
                "",
                "2024-01-01",
                "处理中",
                "quality",
                "",
                "",
                "agent",
            ],
            ["2", "t", "x", "", "13800138000", "", "2024-01-01", "处理中", "quality", "", "", ""],
            [
                "3",
                "t",
                "x",
                "",
                "13800138000",
                "",
                "2024-01-01",
                "处理中",
                "quality",
                "",
                "",
                "ghost",
            ],
        ],
    )
    job = _run(upload, data, actor=org.admin)
    assert (job.created_count, job.error_count) == (1, 2)
    c = Complaint.objects.get()
    assert (c.status, c.assignee, c.team) == ("in_progress", org.agent, org.team)


def test_same_source_ids_are_imported_once_even_from_another_file(org, upload):
    row = ["S-9", "t", "x", "", "13800138000", "", "2024-01-01", "新建", "", "", ""]
    first = _run(upload, sheets.csv_bytes(HEAD, [row]), actor=org.admin)
    again = _run(upload, sheets.xlsx_bytes(HEAD, [row]), "again.xlsx", actor=org.admin)
    assert (first.created_count, again.created_count, again.skipped_count) == (1, 0, 1)
    assert Complaint.objects.count() == 1


def test_the_import_starts_once(org, upload):
    row = ["1", "t", "x", "", "13800138000", "", "2024-01-01", "", "", "", ""]
    job = upload(sheets.csv_bytes(HEAD, [row]), "x.csv")
    job = imports.import_mapping_set(job=job, mapping=job.mapping, actor=org.admin)
    with pytest.raises(InvalidInput):
        imports.import_start(job=job, actor=org.admin)  # not checked yet
    job = imports.import_check(job=job)
    imports.import_start(job=job, actor=org.admin)
    with pytest.raises(InvalidInput):
        imports.import_start(job=job, actor=org.admin)


def test_a_mapping_without_contact_or_date_is_refused(org, upload):
    job = upload(sheets.csv_bytes(["标题", "内容"], [["a", "b"]]), "x.csv")
    with pytest.raises(InvalidInput) as exc:
        imports.import_mapping_set(job=job, mapping=job.mapping, actor=org.admin)
    assert "phone number or the email" in exc.value.message
    assert "date received" in exc.value.message

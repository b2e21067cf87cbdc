"""Spreadsheets as teams really export them: Chinese and English headers and values,
Excel numbers for phones, several date styles, and some bad rows."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta

from openpyxl import Workbook

HEADERS_ZH = ["标题", "投诉内容", "客户姓名", "手机", "邮箱", "投诉日期", "状态", "分类", "处理结果", "根因", "结案日期", "处理人"]  # fmt: skip
HEADERS_EN = ["Title", "Description", "Name", "Phone", "Email", "Date", "Status", "Category", "Resolution", "Root cause", "Closed", "Assignee"]  # fmt: skip

# Every BAD_EVERY-th row is broken in one of these ways, in turn.
BAD_KINDS = ("bad_date", "unknown_category", "no_contact", "unknown_status", "no_resolution")
BAD_EVERY = 40


def rows(n: int, *, seed: int = 7, agent: str = "agent") -> tuple[list[list], dict[str, int]]:
    """n data rows and how many of them are bad, by kind."""
    rnd = random.Random(seed)
    start = datetime(2023, 1, 2, 9, 0)
    bad = dict.fromkeys(BAD_KINDS, 0)
    out = []
    for i in range(n):
        received = start + timedelta(hours=i, minutes=rnd.randrange(60))
        zh = i % 2 == 0
        kind = rnd.choice(
            ["closed", "closed", "closed", "new", "resolved", "in_progress", "rejected"]
        )
        category = rnd.choice(["quality", "Billing", "产品质量", "billing"])
        phone = 13800000000 + rnd.randrange(3000) if rnd.random() < 0.8 else ""
        email = f"c{rnd.randrange(3000)}@example.com" if not phone or rnd.random() < 0.3 else ""
        status = {
            "closed": "已结案" if zh else "Closed",
            "new": "待处理" if zh else "New",
            "resolved": "已解决" if zh else "resolved",
            "in_progress": "处理中" if zh else "In progress",
            "rejected": "驳回" if zh else "Rejected",
        }[kind]
        done = kind in ("closed", "resolved")
        row = [
            f"订单{i}发货慢" if zh else f"Late delivery #{i}",
            f"第{i}号投诉：快递一周未到，客服无回应。"
            if zh
            else f"Complaint {i}: parcel late by a week.",
            f"客户{i % 3000}" if zh else f"Customer {i % 3000}",
            phone,
            email,
            received if i % 3 else received.strftime("%Y/%m/%d %H:%M" if zh else "%Y-%m-%d %H:%M"),
            status,
            category,
            ("已补发并道歉" if zh else "Reshipped and apologised") if done else "",
            ("物流" if zh else "logistics") if done else "",
            received + timedelta(days=3) if kind == "closed" else "",
            agent if kind == "in_progress" else "",
        ]
        if i % BAD_EVERY == BAD_EVERY - 1:
            what = BAD_KINDS[(i // BAD_EVERY) % len(BAD_KINDS)]
            bad[what] += 1
            if what == "bad_date":
                row[5] = "上周三"
            elif what == "unknown_category":
                row[7] = "售后玄学"
            elif what == "no_contact":
                row[3] = row[4] = ""
            elif what == "unknown_status":
                row[6] = "搁置"
            else:
                row[6], row[8] = "已结案", ""
        out.append(row)
    return out, bad


def xlsx_bytes(headers: list[str], data: list[list]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("投诉")
    sheet.append(headers)
    for row in data:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(headers: list[str], data: list[list], encoding: str = "utf-8-sig") -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    for row in data:
        writer.writerow(
            [v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else v for v in row]
        )
    return text.getvalue().encode(encoding)

"""Reading spreadsheets and checking their rows, for services/imports.py.

`import_read` streams a CSV (any common encoding) or XLSX file; `mapping_guess`
proposes which column is which field from the header names (Chinese or English);
`RowChecker` turns a row's cells into complaint fields with a plain message for each
problem (bad date, unknown category, missing contact…).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints.contacts import normalize_email, normalize_phone
from complaints.errors import InvalidInput
from complaints.models import (
    Category,
    Channel,
    Demand,
    Priority,
    Product,
    RootCause,
    TeamMembership,
    User,
)
from complaints.workflow import OWNED_STATES, ComplaintStatus

S = ComplaintStatus

# Target field → (label, header synonyms; compared lower-cased without spaces/punctuation).
FIELDS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "source_id": (gettext_lazy("Source id"), ("id", "编号", "工单号", "投诉编号", "ticketid", "sourceid", "单号", "序号", "ticket")),
    "title": (gettext_lazy("Title"), ("title", "标题", "主题", "subject", "summary")),
    "description": (gettext_lazy("Description"), ("description", "描述", "内容", "投诉内容", "问题描述", "details", "detail", "body", "content")),
    "customer_name": (gettext_lazy("Customer name"), ("name", "customer", "customername", "客户", "姓名", "客户姓名", "客户名称", "联系人")),
    "phone": (gettext_lazy("Phone"), ("phone", "mobile", "tel", "telephone", "电话", "手机", "手机号", "联系电话", "电话号码")),
    "email": (gettext_lazy("Email"), ("email", "mail", "e-mail", "邮箱", "电子邮箱", "电子邮件")),
    "received_at": (gettext_lazy("Received"), ("received", "date", "created", "receivedat", "createdat", "日期", "投诉日期", "受理日期", "创建时间", "投诉时间", "受理时间")),
    "status": (gettext_lazy("Status"), ("status", "state", "状态", "处理状态")),
    "category": (gettext_lazy("Category"), ("category", "type", "分类", "类别", "投诉类型", "问题类型")),
    "product": (gettext_lazy("Product"), ("product", "sku", "model", "产品", "型号", "产品型号")),
    "priority": (gettext_lazy("Priority"), ("priority", "优先级", "紧急程度")),
    "order_number": (gettext_lazy("Order number"), ("order", "ordernumber", "orderno", "订单号", "订单编号", "订单")),
    "channel": (gettext_lazy("Channel"), ("channel", "source", "渠道", "来源", "投诉渠道")),
    "demand": (gettext_lazy("Customer demand"), ("demand", "request", "诉求", "客户诉求")),
    "resolution": (gettext_lazy("Resolution"), ("resolution", "result", "处理结果", "解决方案", "处理意见", "处理方案")),
    "root_cause": (gettext_lazy("Root cause"), ("rootcause", "cause", "根因", "原因", "根本原因", "问题原因")),
    "resolved_at": (gettext_lazy("Resolved"), ("resolved", "resolvedat", "解决日期", "解决时间", "处理完成时间")),
    "closed_at": (gettext_lazy("Closed"), ("closed", "closedat", "结案日期", "结案时间", "关闭时间", "关闭日期")),
    "assignee": (gettext_lazy("Assignee (user name or email)"), ("assignee", "owner", "agent", "处理人", "负责人", "经办人")),
}  # fmt: skip

_STATUS_WORDS = {
    S.NEW: ("new", "open", "新建", "新", "待处理", "未处理", "待受理"),
    S.TRIAGED: ("triaged", "已分类", "已受理", "受理"),
    S.ASSIGNED: ("assigned", "已分派", "已分配", "已指派"),
    S.IN_PROGRESS: ("inprogress", "working", "处理中", "进行中", "跟进中", "办理中"),
    S.AWAITING_CUSTOMER: ("awaitingcustomer", "waiting", "pending", "待客户回复", "等待客户", "待回复"),
    S.RESOLVED: ("resolved", "solved", "已解决", "已处理", "已办结"),
    S.CLOSED: ("closed", "done", "completed", "complete", "已关闭", "关闭", "已结案", "结案", "已完成", "完成"),
    S.REJECTED: ("rejected", "invalid", "已驳回", "驳回", "不受理", "无效"),
}  # fmt: skip
_ROOT_CAUSE_WORDS = {
    RootCause.PRODUCT_DEFECT: ("产品缺陷", "质量问题", "产品质量", "defect"),
    RootCause.SERVICE: ("服务", "服务问题", "服务态度"),
    RootCause.LOGISTICS: ("物流", "快递", "配送", "shipping", "delivery"),
    RootCause.BILLING: ("账单", "计费", "收费", "billing"),
    RootCause.POLICY: ("政策", "流程", "制度"),
    RootCause.THIRD_PARTY: ("第三方",),
    RootCause.MISUNDERSTANDING: ("误解", "客户误解"),
    RootCause.OTHER: ("其他", "其它"),
}
_DEMAND_WORDS = {
    Demand.REFUND: ("退款", "退货", "退货退款"),
    Demand.REPLACEMENT: ("换货", "更换"),
    Demand.REPAIR: ("维修", "修理"),
    Demand.COMPENSATION: ("赔偿", "补偿"),
    Demand.APOLOGY: ("道歉",),
    Demand.EXPLANATION: ("解释", "说明"),
    Demand.OTHER: ("其他", "其它"),
}
_CHANNEL_WORDS = {
    Channel.WEB: ("网站", "网页", "在线", "online", "website"),
    Channel.EMAIL: ("邮件", "邮箱", "mail"),
    Channel.PHONE: ("电话", "热线", "400", "hotline", "call"),
    Channel.IN_STORE: ("门店", "店面", "store", "instore"),
    Channel.SOCIAL: ("微信", "微博", "社交媒体", "wechat", "weibo", "im"),
    Channel.API: ("接口",),
}
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
    "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M", "%Y年%m月%d日",
)  # fmt: skip


def _norm(text: Any) -> str:
    """Lower-case, NFKC (full-width → half-width), without spaces and punctuation."""
    text = unicodedata.normalize("NFKC", str(text or "")).lower()
    return "".join(ch for ch in text if ch.isalnum())


def _words(table: dict, choices) -> dict[str, str]:
    """Word → value, from the synonyms above plus each choice's value and label."""
    lookup = {}
    for value, label in choices.choices:
        lookup[_norm(value)] = value
        lookup[_norm(label)] = value
    for value, synonyms in table.items():
        for word in synonyms:
            lookup[_norm(word)] = value
    return lookup


# --- Reading ------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        # Excel keeps phone numbers and ids as numbers: 13800138000.0 is 13800138000.
        return int(value)
    return "" if value is None else value


def _csv_encoding(handle) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; else GB18030 (a superset of
    GBK, what Chinese Excel writes). The whole file is checked, a chunk at a time."""
    head = handle.read(4)
    handle.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := handle.read(1 << 16):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"
    finally:
        handle.seek(0)


@dataclass
class ImportSource:
    """A spreadsheet's header and a stream of its rows (lists aligned to the header)."""

    headers: list[str]
    _rows: Iterator[list[Any]]
    close: Callable[[], None] = lambda: None

    def rows(self) -> Iterator[list[Any]]:
        width = len(self.headers)
        line = 1
        try:
            for raw in self._rows:
                line += 1
                values = [_cell(v) for v in raw][:width]
                if any(v != "" for v in values):
                    yield values + [""] * (width - len(values))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InvalidInput(
                _("The file is damaged near row %(n)d: %(error)s") % {"n": line, "error": exc}
            ) from exc

    def __enter__(self) -> ImportSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def import_read(file) -> ImportSource:
    """Open a CSV or XLSX file (a binary file object, seekable) for streaming; use it
    as a context manager. The caller closes the file object itself.

    XLSX is recognised by its content (a zip), read with openpyxl in read-only mode
    (constant memory), first sheet. Anything else is read as CSV, encoding detected
    and delimiter sniffed (comma, semicolon or tab). Raises InvalidInput when the
    file cannot be read or has no header row.
    """
    file.seek(0)
    if file.read(4) == b"PK\x03\x04":
        file.seek(0)
        return _read_xlsx(file)
    file.seek(0)
    return _read_csv(file)


def _read_xlsx(handle) -> ImportSource:
    from openpyxl import load_workbook

    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InvalidInput(_("This file could not be read as an Excel workbook.")) from exc
    rows = book.worksheets[0].iter_rows(values_only=True)
    for first in rows:
        headers = [str(_cell(v)) for v in first]
        if any(headers):
            return ImportSource(headers, rows, book.close)
    book.close()
    raise InvalidInput(_("The file has no header row."))


def _read_csv(handle) -> ImportSource:
    encoding = _csv_encoding(handle)
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    try:
        sample = text.read(1 << 14)
    except UnicodeDecodeError as exc:
        raise InvalidInput(_("The file's characters could not be decoded.")) from exc
    text.seek(0)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text, dialect)
    for first in reader:
        headers = [h.strip() for h in first]
        if any(headers):
            return ImportSource(headers, reader, text.detach)
    raise InvalidInput(_("The file has no header row."))


def mapping_guess(headers: list[str]) -> dict[str, str]:
    """{header: field} for the headers whose name says what they hold; each field once."""
    by_word = {_norm(w): name for name, (_label, words) in FIELDS.items() for w in words}
    mapping: dict[str, str] = {}
    for header in headers:
        target = by_word.get(_norm(header))
        if target and target not in mapping.values():
            mapping[header] = target
    return mapping


def field_choices() -> list[tuple[str, str]]:
    return [("", _("(ignore)"))] + [(name, str(label)) for name, (label, _w) in FIELDS.items()]


# --- Checking a row ------------------------------------------------------------------


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it (the header is row 1)
    key: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def error(self, column: str, message: str) -> None:
        self.errors.append((column, message))


class RowChecker:
    """Turns mapped cells into complaint fields, with a plain message per problem.

    Reference data (categories, products, priorities, users) is loaded once."""

    def __init__(self, mapping: dict[str, str], headers: list[str], source: str = ""):
        self.columns = {
            target: headers.index(h)
            for h, target in mapping.items()
            if h in headers and target in FIELDS
        }
        self.header_of = {target: h for h, target in mapping.items()}
        self.source = source
        self.statuses = _words(_STATUS_WORDS, ComplaintStatus)
        self.root_causes = _words(_ROOT_CAUSE_WORDS, RootCause)
        self.demands = _words(_DEMAND_WORDS, Demand)
        self.channels = _words(_CHANNEL_WORDS, Channel)
        self.categories: dict[str, Category] = {}
        for c in Category.objects.select_related("parent__parent"):
            for word in (c.code, c.name, c.full_name):
                self.categories.setdefault(_norm(word), c)
        self.products: dict[str, Product] = {}
        for p in Product.objects.all():
            for word in (p.sku, p.name):
                self.products.setdefault(_norm(word), p)
        self.priorities: dict[str, Priority] = {}
        for p in Priority.objects.all():
            for word in (p.code, str(p.level), p.name):
                self.priorities.setdefault(_norm(word), p)
        self._users: dict[str, tuple[User | None, Any]] = {}
        self._members: dict[tuple[int, int], bool] = {}
        self.now = timezone.now()

    def _get(self, raw: list[Any], name: str) -> Any:
        index = self.columns.get(name)
        return raw[index] if index is not None else ""

    def key_for(self, raw: list[Any]) -> str:
        source_id = str(self._get(raw, "source_id")).strip()
        if source_id:
            key = f"id:{_norm(self.source)}:{source_id}" if self.source else f"id:{source_id}"
            if len(key) <= 100:
                return key
        values = "\x1f".join(
            unicodedata.normalize("NFKC", str(self._get(raw, n))).strip()
            for n in sorted(self.columns)
        )
        return "row:" + hashlib.sha256(values.encode()).hexdigest()

    def check(self, number: int, raw: list[Any]) -> Row:
        row = Row(number=number, key=self.key_for(raw))
        v = row.values
        text = {
            name: str(self._get(raw, name)).strip()
            for name in FIELDS
            if name not in ("received_at", "resolved_at", "closed_at")
        }
        v["title"], v["description"] = text["title"][:200], text["description"] or text["title"]
        if not v["description"]:
            row.error("description", _("The description is empty."))
        v["title"] = v["title"] or _title_from(v["description"])
        v["order_number"] = text["order_number"][:64]
        v["customer_name"] = text["customer_name"][:200]
        self._check_contact(row, text["phone"], text["email"])
        for name in ("received_at", "resolved_at", "closed_at"):
            v[name] = self._date(row, name, self._get(raw, name))
        if v["received_at"] is None and "received_at" not in dict(row.errors):
            row.error("received_at", _("The received date is missing."))
        v["status"] = self._choice(
            row, "status", text["status"], self.statuses, _("Unknown status “%(value)s”."), S.NEW
        )
        v["root_cause"] = self._choice(
            row,
            "root_cause",
            text["root_cause"],
            self.root_causes,
            _("Unknown root cause “%(value)s”."),
            "",
        )
        v["demand"] = self._choice(
            row,
            "demand",
            text["demand"],
            self.demands,
            _("Unknown customer demand “%(value)s”."),
            Demand.OTHER,
        )
        v["source_channel"] = self.channels.get(_norm(text["channel"]), text["channel"][:50])
        v["category"] = self._lookup(
            row, "category", text["category"], self.categories, _("Unknown category “%(value)s”.")
        )
        v["product"] = self._lookup(
            row, "product", text["product"], self.products, _("Unknown product “%(value)s”.")
        )
        v["priority"] = self._lookup(
            row, "priority", text["priority"], self.priorities, _("Unknown priority “%(value)s”.")
        )
        v["resolution"] = text["resolution"]
        self._check_status(row, text["assignee"])
        return row

    def _check_contact(self, row: Row, phone: str, email: str) -> None:
        phone_n, email_n = normalize_phone(phone), normalize_email(email)
        if phone and not (phone_n and 8 <= len(phone_n) - 1 <= 15):
            row.error("phone", _("“%(value)s” is not a phone number.") % {"value": phone})
            phone_n = ""
        if email_n:
            try:
                validate_email(email_n)
            except ValidationError:
                row.error("email", _("“%(value)s” is not an email address.") % {"value": email})
                email_n = ""
        if not phone and not email:
            row.error("phone", _("No contact: give a phone number or an email address."))
        row.values["phone"], row.values["email"] = phone_n, email_n

    def _date(self, row: Row, name: str, raw: Any) -> datetime | None:
        if raw in ("", None):
            return None
        value = _parse_datetime(raw)
        if value is None:
            row.error(
                name,
                _("“%(value)s” is not a date (write it as 2024-03-05 or 2024/3/5 14:30).")
                % {"value": raw},
            )
        elif value > self.now:
            row.error(name, _("The date %(value)s is in the future.") % {"value": raw})
            value = None
        return value

    def _choice(self, row, name, raw, lookup, message, default):
        if not raw:
            return default
        value = lookup.get(_norm(raw))
        if value is None:
            row.error(name, message % {"value": raw})
            return default
        return value

    def _lookup(self, row, name, raw, table, message):
        if not raw:
            return None
        found = table.get(_norm(raw))
        if found is None:
            row.error(name, message % {"value": raw})
        return found

    def _user(self, raw: str) -> tuple[User | None, Any]:
        if raw not in self._users:
            user = User.objects.filter(is_active=True, username__iexact=raw).first() or (
                User.objects.filter(is_active=True, email__iexact=raw).order_by("pk").first()
            )
            team = None
            if user is not None:
                membership = (
                    TeamMembership.objects.filter(user=user, team__is_active=True)
                    .select_related("team")
                    .order_by("pk")
                    .first()
                )
                team = membership.team if membership else None
            self._users[raw] = (user, team)
        return self._users[raw]

    def _is_member(self, team, user) -> bool:
        key = (team.pk, user.pk)
        if key not in self._members:
            self._members[key] = TeamMembership.objects.filter(team=team, user=user).exists()
        return self._members[key]

    def _check_status(self, row: Row, assignee: str) -> None:
        v = row.values
        status = v["status"]
        v["assignee"], v["team"] = None, v["category"].default_team if v["category"] else None
        if status in OWNED_STATES or (assignee and status != S.NEW):
            user, team = self._user(assignee) if assignee else (None, None)
            if assignee and user is None:
                row.error("assignee", _("No active user “%(value)s”.") % {"value": assignee})
            elif user is None:
                row.error(
                    "assignee",
                    _("A complaint “%(status)s” needs its assignee (a user name or email).")
                    % {"status": S(status).label},
                )
            else:
                v["assignee"] = user
                if v["team"] is None or not self._is_member(v["team"], user):
                    v["team"] = team
                if v["team"] is None:
                    row.error("assignee", _("%(user)s is in no team.") % {"user": user})
        if status == S.TRIAGED and v["category"] is None:
            row.error("category", _("A triaged complaint needs its category."))
        if status in (S.RESOLVED, S.CLOSED) and not v["resolution"]:
            row.error("resolution", _("A resolved or closed complaint needs its resolution."))
        if status == S.MERGED:
            row.error(
                "status",
                _(
                    "Merged complaints cannot be imported: import the complaint they were merged into."
                ),
            )


def _title_from(description: str) -> str:
    first = next((line.strip() for line in description.splitlines() if line.strip()), "")
    return first if len(first) <= 60 else first[:59] + "…"


def _parse_datetime(raw: Any) -> datetime | None:
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime(raw.year, raw.month, raw.day)
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip()
        value = None
        for fmt in _DATE_FORMATS:
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if value is None:
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value

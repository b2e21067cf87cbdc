"""Stored XSS through every inbound path: text is escaped wherever it is shown, HTML
mail becomes inert text, and emails are plain text."""

from __future__ import annotations

from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils.html import escape
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from complaints import public_links
from complaints.models import Complaint
from complaints.services import attachments, survey
from complaints.services import transitions as t
from tests.mail.support import receive
from tests.support import png

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(2)">'
PAYLOAD = f"{SCRIPT}{IMG}"


class _Markup(HTMLParser):
    """Collects what the browser would treat as live markup."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        self.in_script = tag == "script"
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.live.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action") and value.startswith("javascript:"):
                self.live.append(f"<{tag} {name}={value}>")
            if name == "style" and "expression(" in value:
                self.live.append(f"<{tag} style={value}>")
        if tag in ("img", "iframe") and dict(attrs).get("src") in ("x", "https://evil.example"):
            self.live.append(f"<{tag}> from user text")

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if self.in_script and "alert" in data:
            self.live.append(f"<script>{data[:40]}")


@pytest.fixture(autouse=True)
def fresh_cache():
    # Rate limits of the public form and the API count in the cache.
    cache.clear()
    yield
    cache.clear()


def assert_inert(html: str) -> None:
    parser = _Markup()
    parser.feed(html)
    assert parser.live == []


@pytest.mark.parametrize(
    "html",
    [
        "<p><script>alert(1)</script></p>",
        '<img src=x onerror="alert(2)">',
        '<a href=" JavaScript:alert(3)">x</a>',
        '<div style="width: expression(alert(4))">',
    ],
)
def test_the_checker_sees_live_markup(html):
    with pytest.raises(AssertionError):
        assert_inert(html)
    assert_inert(escape(html))


def staff_pages(client, user, complaint) -> dict[str, str]:
    client.force_login(user)
    return {
        "detail": client.get(reverse("complaints:staff-detail", args=[complaint.pk])),
        "queue": client.get(reverse("complaints:staff-queue", args=["all"])),
    }


def public_page(client, complaint) -> str:
    response = client.get(public_links.status_path(complaint), follow=True)
    assert response.status_code == 200
    return response.content.decode()


HOSTILE_HTML = """<html><head><style>body { width: expression(alert(4)); }</style>
<script>alert('mail')</script></head><body>
<p>My kettle leaks.</p>
<img src=x onerror="alert(2)">
<a href="javascript:alert(3)">click here</a>
<div style="background: url(javascript:alert(5)); width: expression(alert(6))">styled</div>
<iframe src="https://evil.example"></iframe>
</body></html>"""


def hostile_mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = f'"{SCRIPT}" <evil@example.com>'
    msg["To"] = "complaints@shop.example.com"
    msg["Subject"] = f"Broken {IMG}"
    msg["Message-ID"] = "<hostile@example.com>"
    msg.set_content("Plain part")
    msg.add_alternative(HOSTILE_HTML, subtype="html")
    # Only the HTML part, so the HTML-to-text path is the one used.
    html_only = EmailMessage()
    for header in ("From", "To", "Subject", "Message-ID"):
        html_only[header] = msg[header]
    html_only.set_content(HOSTILE_HTML, subtype="html")
    return html_only.as_bytes()


def test_hostile_html_mail_is_inert_text_for_staff_and_customer(client, org):
    message = receive(hostile_mail())
    complaint = message.complaint
    assert complaint is not None, message.note
    assert "My kettle leaks." in complaint.description
    assert "alert('mail')" not in complaint.description  # scripts and styles dropped
    assert "<" not in complaint.description.replace("&lt;", "")  # no markup kept
    pages = staff_pages(client, org.admin, complaint)
    for response in pages.values():
        assert response.status_code == 200
        assert_inert(response.content.decode())
    assert "My kettle leaks." in pages["detail"].content.decode()
    html = public_page(client, complaint)
    assert_inert(html)
    assert "My kettle leaks." in html


def test_public_form_fields_are_escaped_for_staff(client, org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = {
        "name": SCRIPT,
        "phone": "13800138000",
        "email": "x@example.com",
        "order_number": IMG[:60],
        "description": f"Broken {PAYLOAD}",
        "demand": "replacement",
        "demand_detail": PAYLOAD,
        "website": "",
        "form_token": "tok-" + "a" * 30,
    }
    response = client.post(reverse("complaints:public-submit"), data)
    assert response.status_code == 302, response.content.decode()[:500]
    complaint = Complaint.objects.get()
    pages = staff_pages(client, org.admin, complaint)
    detail = pages["detail"].content.decode()
    assert_inert(detail)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in detail
    assert_inert(pages["queue"].content.decode())
    assert "&lt;script&gt;" in pages["queue"].content.decode()  # the name in the list
    client.logout()
    assert_inert(public_page(client, complaint))


def test_api_intake_text_is_escaped_in_the_staff_pages_and_the_admin(client, org):
    api = APIClient()
    token, _ = Token.objects.get_or_create(user=org.agent)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = {
        "channel": "social",
        "external_system": "wechat",
        "external_id": "wx-evil",
        "name": IMG,
        "phone": "13800138001",
        "title": PAYLOAD[:150],
        "description": PAYLOAD,
        "demand": "refund",
    }
    response = api.post("/api/intake/", body, format="json")
    assert response.status_code == 201, response.content
    complaint = Complaint.objects.get()
    for response in staff_pages(client, org.admin, complaint).values():
        assert_inert(response.content.decode())
    for name in ("complaint", "customer"):
        html = client.get(reverse(f"admin:complaints_{name}_changelist")).content.decode()
        assert_inert(html)
        assert "&lt;" in html
    html = client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    assert_inert(html.content.decode())


def test_file_names_and_survey_comments_are_escaped(
    client, org, make_complaint, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    complaint = make_complaint("in_progress")
    attachments.attachment_add(complaint=complaint, actor=org.agent, upload=png(f"{IMG}.png"))
    t.complaint_resolve(
        complaint=complaint,
        actor=org.agent,
        summary="Replaced",
        root_cause="product_defect",
        remedy="Replacement",
    )
    survey.survey_submit(complaint=complaint, rating=1, solved=False, comment=PAYLOAD)
    detail = staff_pages(client, org.admin, complaint)["detail"].content.decode()
    assert_inert(detail)
    assert "alert(&#x27;x&#x27;)" in detail  # the comment is shown, as text
    client.logout()
    assert_inert(public_page(client, complaint))


def test_emails_to_customers_are_plain_text(
    org, make_complaint, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(name=SCRIPT, email="c@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        make_complaint("new", customer=customer, title=PAYLOAD[:150], description=PAYLOAD)
    from complaints.services.outbox import outbox_deliver_due

    outbox_deliver_due()
    assert mailoutbox, "the acknowledgment was sent"
    for mail in mailoutbox:
        assert mail.content_subtype == "plain"
        assert not getattr(mail, "alternatives", [])
        assert "<html" not in mail.body.lower() and "&lt;" not in mail.body

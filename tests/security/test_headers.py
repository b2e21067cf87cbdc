"""Security headers: CSP without unsafe-inline, nosniff, and no Referer from the pages
whose URL carries a token."""

from __future__ import annotations

import pytest
from django.urls import reverse

from complaints.public_links import status_token
from complaints.services import survey

pytestmark = pytest.mark.django_db


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize("url", ["/accounts/login/", "/submit/", "/track/"])
def test_pages_have_a_csp_without_inline_scripts(client, url):
    response = client.get(url)
    csp = _csp(response)
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]


def test_csp_has_no_unsafe_inline_anywhere(client):
    csp = _csp(client.get("/accounts/login/"))
    assert not any("'unsafe-inline'" in values for values in csp.values())


@pytest.mark.parametrize("url", ["/accounts/login/", "/submit/", "/track/"])
def test_nosniff_everywhere(client, url):
    assert client.get(url)["X-Content-Type-Options"] == "nosniff"


def test_status_link_sends_no_referrer(client, org, make_complaint):
    complaint = make_complaint("in_progress")
    response = client.get(reverse("complaints:public-track-link", args=[status_token(complaint)]))
    assert response.status_code == 302
    assert response["Referrer-Policy"] == "no-referrer"
    # A wrong token too: the answer does not tell them apart by headers.
    wrong = client.get(reverse("complaints:public-track-link", args=["TS-1-x:abc:def"]))
    assert wrong["Referrer-Policy"] == "no-referrer"


def test_submitted_page_sends_no_referrer(client, org, make_complaint):
    complaint = make_complaint("new")
    url = reverse("complaints:public-submitted", args=[status_token(complaint)])
    assert client.get(url)["Referrer-Policy"] == "no-referrer"


def test_survey_page_never_sends_its_path(client, org, make_complaint):
    complaint = make_complaint("resolved")
    url = reverse("complaints:public-survey", args=[survey.survey_token(complaint)])
    response = client.get(url)
    assert response.status_code == 200
    # Only the origin, never the token in the path; the survey's form still posts.
    assert response["Referrer-Policy"] == "strict-origin"
    assert "no-store" in response["Cache-Control"]


def test_staff_pages_keep_same_origin(client, org):
    client.force_login(org.agent)
    response = client.get(reverse("complaints:staff-home"))
    assert response["Referrer-Policy"] == "same-origin"


def test_no_template_carries_an_inline_style():
    """style-src has no 'unsafe-inline': an inline style would be dropped by browsers."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.html")
        if " style=" in p.read_text(encoding="utf-8") or "<style" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_priority_colours_are_a_stylesheet_of_hex_colours_only(client):
    from complaints.models import Priority

    Priority.objects.filter(code="P1").update(color="#dc3545")
    # Seven characters, as the column allows: not a colour, so left out.
    Priority.objects.filter(code="P2").update(color="red;}*{")
    response = client.get("/styles/priorities.css")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    css = response.content.decode()
    p1, p2 = (Priority.objects.get(code=c).pk for c in ("P1", "P2"))
    assert f".prio-{p1} {{ color: #dc3545; }}" in css
    assert f".prio-{p2} " not in css and "red" not in css and "*" not in css

"""Reply templates: which ones a complaint is offered, and how placeholders render."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from complaints.errors import NotFound
from complaints.models import ReplyTemplate
from complaints.public_links import complaint_for_token, status_url
from complaints.services import reply_templates as rt
from complaints.services.editing import complaint_update
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

EVERY = (
    "{customer_name}|{tracking_number}|{title}|{deadline}|{agent_name}|{category}|"
    "{product}|{order_number}|{status_link}"
)


def _template(name, body="Hello {customer_name}", **kwargs):
    return ReplyTemplate.objects.create(name=name, body=body, **kwargs)


def _render(body, complaint, actor):
    return rt.reply_template_render(
        template=ReplyTemplate(name="t", body=body), complaint=complaint, actor=actor
    )


# --- Which templates ---------------------------------------------------------------------------


def test_templates_of_the_category_its_ancestors_and_all_most_specific_first(org, working, kettles):
    everywhere = _template("A everywhere")
    parent = _template("B quality", category=org.category)
    own = _template("C kettles", category=kettles)
    own_zh = _template("D kettles zh", category=kettles, language="zh-hans")
    _template("E billing", category=org.category_b)
    _template("F inactive", category=kettles, is_active=False)
    _template("G english", category=kettles, language="en")
    working.language = "zh-Hans-CN"

    offered = rt.reply_templates_for(complaint=working)

    assert offered == [own_zh, own, parent, everywhere]


def test_the_complaints_language_chooses_the_templates(org, make_complaint):
    english = _template("English", language="en")
    chinese = _template("中文", language="zh-hans")
    anyone = _template("Any")
    complaint = make_complaint("in_progress", language="en")
    assert rt.reply_templates_for(complaint=complaint) == [english, anyone]

    customer = CustomerFactory(language="zh-Hans")
    other = make_complaint("in_progress", customer=customer)
    assert rt.reply_language(other) == "zh-hans"
    assert rt.reply_templates_for(complaint=other) == [chinese, anyone]

    # Neither says: the site's language.
    other.language, other.customer.language = "", "fr"
    assert rt.reply_language(other) == settings.LANGUAGE_CODE


def test_a_complaint_without_category_gets_only_templates_for_all(org, make_complaint):
    anyone = _template("Any")
    _template("Quality", category=org.category)
    assert rt.reply_templates_for(complaint=make_complaint("new")) == [anyone]


def test_getting_a_template_not_offered_is_not_found(org, working):
    billing = _template("Billing", category=org.category_b)
    inactive = _template("Off", is_active=False)
    for pk in (billing.pk, inactive.pk, 99999, "x", None):
        with pytest.raises(NotFound):
            rt.reply_template_get_for(complaint=working, pk=pk)
    offered = _template("Any")
    assert rt.reply_template_get_for(complaint=working, pk=str(offered.pk)) == offered


# --- Rendering --------------------------------------------------------------------------------


def test_every_placeholder_is_replaced(org, working, kettles):
    org.agent.first_name, org.agent.last_name = "Lina", "Zhang"
    org.agent.save(update_fields=["first_name", "last_name"])
    product = ProductFactory(name="Kettle K1")
    complaint_update(
        complaint=working, actor=org.agent, product=product, order_number="SO-42", reason="x"
    )
    working.refresh_from_db()
    working.customer.name = "Wang Fang"
    working.customer.save(update_fields=["name"])
    due = datetime(2030, 3, 5, 6, 30, tzinfo=ZoneInfo("UTC"))  # 14:30 in Shanghai
    working.resolution_due_at = due
    working.language = "en"

    text = _render(EVERY, working, org.agent)

    parts = text.split("|")
    assert parts[:3] == ["Wang Fang", working.tracking_number, working.title]
    assert parts[3] == "March 5, 2030, 2:30 p.m."
    assert parts[4:8] == ["Lina", "Kettles", "Kettle K1", "SO-42"]
    assert parts[8] == status_url(working)
    assert complaint_for_token(parts[8].rstrip("/").rsplit("/", 1)[-1]) == working
    assert "Zhang" not in text  # the customer sees the first name only


def test_the_deadline_is_written_in_the_customers_language(org, working):
    working.resolution_due_at = datetime(2030, 3, 5, 6, 30, tzinfo=ZoneInfo("UTC"))
    working.language = "zh-hans"
    assert _render("请在{deadline}前", working, org.agent) == "请在2030年3月5日 14:30前"


def test_missing_values_become_empty(org, make_complaint):
    complaint = make_complaint("new")  # no category, product, order number or deadline
    complaint.resolution_due_at = None
    complaint.customer.name = ""
    text = _render(
        "[{customer_name}][{category}][{product}][{order_number}][{deadline}]", complaint, org.agent
    )
    assert text == "[][][][][]"
    assert _render("{agent_name}", complaint, org.agent) == ""  # no display or first name


def test_unknown_placeholders_and_attribute_access_stay_as_written(org, working):
    body = "{customer_name.__class__} {customer} {0} {title!r} {{title}} {title"
    text = _render(body, working, org.agent)
    assert text == (
        "{customer_name.__class__} {customer} {0} {title!r} " + "{" + working.title + "} {title"
    )
    assert "class" not in text.replace("{customer_name.__class__}", "")


def test_chinese_text_and_values(org, working):
    working.customer.name = "王芳"
    text = _render("{customer_name}您好，您的投诉{tracking_number}正在处理。", working, org.agent)
    assert text == f"王芳您好，您的投诉{working.tracking_number}正在处理。"


def test_a_value_is_not_rendered_again(org, working):
    """A customer who calls themself "{tracking_number}" gets exactly that name."""
    working.customer.name = "{tracking_number}"
    assert _render("{customer_name}", working, org.agent) == "{tracking_number}"


def test_the_admin_check_lists_unknown_placeholders_once(org):
    body = "{customer_name} {customer} {deadline} {customer} {x.y} {Deadline} {}"
    assert rt.unknown_placeholders(body) == ["{customer}", "{x.y}", "{Deadline}"]
    assert rt.unknown_placeholders("Dear {customer_name}, see {status_link}") == []
    assert ("{status_link}", rt.PLACEHOLDERS["status_link"][0]) in rt.placeholder_help()


def test_category_of_a_deeper_tree(org, working, kettles):
    glass = CategoryFactory(name="Glass", code="glass", parent=kettles)
    complaint_update(complaint=working, actor=org.agent, category=glass, reason="glass")
    working.refresh_from_db()
    assert _render("{category}", working, org.agent) == "Glass"

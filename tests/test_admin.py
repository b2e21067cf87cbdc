"""The Django admin: configuration screens, and complaints changed only through services."""

from __future__ import annotations

import inspect

import pytest
from django.contrib.admin import helpers
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints.forms import TRANSITION_FIELDS, TransitionActionForm
from complaints.models import (
    Complaint,
    ComplaintEvent,
    Customer,
    CustomerExternalId,
    StatusChange,
    User,
)
from complaints.services.editing import complaint_update
from complaints.services.transitions import SERVICES
from complaints.workflow import TRANSITIONS
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, org):
    """The Admin role (group permissions from migration 0002), not a superuser."""
    assert not org.admin.is_superuser
    client.force_login(org.admin)
    return client


def url(name: str, *args) -> str:
    return reverse(f"admin:complaints_{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def change_form_data(response) -> dict:
    """What the browser would post back for an unchanged change form (with inlines)."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None:
                continue
            data[form.add_prefix(name)] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def run_action(client, action: str, complaints, **inputs):
    """Post an admin action for `complaints`; with inputs, also the intermediate page."""
    data = {
        "action": action,
        helpers.ACTION_CHECKBOX_NAME: [c.pk for c in complaints],
        **inputs,
    }
    if inputs:
        data["apply"] = "1"
    else:
        data["index"] = "0"
    return client.post(url("complaint_changelist"), data, follow=True)


# --- Screens open for the Admin role -----------------------------------------------------


def test_admin_role_opens_the_complaint_list_and_change_page(admin_client, make_complaint):
    complaint = make_complaint("in_progress")

    listing = admin_client.get(url("complaint_changelist"))
    page = admin_client.get(url("complaint_change", complaint.pk))

    assert listing.status_code == 200
    assert complaint.tracking_number in listing.text
    assert page.status_code == 200
    assert complaint.title in page.text


CONFIG_MODELS = ["user", "team", "teammembership", "category", "product", "priority", "customer"]


@pytest.mark.parametrize("model", CONFIG_MODELS)
def test_admin_role_opens_each_configuration_list_and_history(admin_client, org, model):
    objects = {
        "user": org.agent,
        "team": org.team,
        "teammembership": org.team.memberships.first(),
        "category": org.category,
        "product": ProductFactory(category=org.category),
        "priority": org.p1,
        "customer": CustomerFactory(),
    }
    obj = objects[model]

    listing = admin_client.get(url(f"{model}_changelist"))
    change = admin_client.get(url(f"{model}_change", obj.pk))
    history = admin_client.get(url(f"{model}_history", obj.pk))

    assert listing.status_code == 200
    assert change.status_code == 200
    assert history.status_code == 200


def test_category_list_shows_full_names_of_nested_categories(admin_client, org):
    CategoryFactory(name="Kettles", code="kettles", parent=org.category)

    response = admin_client.get(url("category_changelist"))

    assert "Product quality / Kettles" in response.text


def test_customer_change_page_edits_external_ids_inline(admin_client):
    customer = CustomerFactory()
    page = admin_client.get(url("customer_change", customer.pk))
    data = change_form_data(page)
    data.update(
        {
            "external_ids-TOTAL_FORMS": "1",
            "external_ids-0-system": "wechat",
            "external_ids-0-value": "wx-123",
        }
    )

    response = admin_client.post(url("customer_change", customer.pk), data)

    assert response.status_code == 302
    assert CustomerExternalId.objects.get(customer=customer).value == "wx-123"
    assert customer.history.count() >= 1


def test_the_admin_role_cannot_make_a_superuser(admin_client, org):
    page = admin_client.get(url("user_change", org.agent.pk))

    assert "is_superuser" not in page.context["adminform"].form.fields
    assert "user_permissions" not in page.context["adminform"].form.fields
    assert "is_away" in page.context["adminform"].form.fields


def test_the_admin_role_cannot_change_a_superuser(admin_client):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)

    page = admin_client.get(url("user_change", root.pk))
    password = admin_client.post(
        reverse("admin:auth_user_password_change", args=(root.pk,)),
        {"password1": "x-Very-long-9", "password2": "x-Very-long-9"},
    )

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert password.status_code == 403
    root.refresh_from_db()
    assert root.check_password("pw")


def test_the_admin_role_adds_a_user_with_back_office_fields(admin_client):
    response = admin_client.post(
        url("user_add"),
        {
            "username": "newagent",
            "usable_password": "true",
            "password1": "x-Very-long-9",
            "password2": "x-Very-long-9",
            "display_name": "小王",
            "email": "wang@example.com",
            "language": "zh-hans",
        },
    )

    assert response.status_code == 302
    created = User.objects.get(username="newagent")
    assert (created.display_name, created.language) == ("小王", "zh-hans")


# --- Complaint fields: read-only status, edits through complaint_update ---------------------


def test_complaint_change_form_has_no_editable_status_or_bookkeeping(admin_client, make_complaint):
    complaint = make_complaint("assigned")

    page = admin_client.get(url("complaint_change", complaint.pk))
    fields = set(page.context["adminform"].form.fields)

    assert 'name="status"' not in page.text
    assert fields.isdisjoint(
        {"status", "assignee", "team", "tracking_number", "customer", "version", "closed_at"}
    )
    assert {"title", "category", "priority"} <= fields
    # The status is shown, as text.
    assert "Assigned" in page.text


def test_changing_the_title_goes_through_the_editing_service(admin_client, org, make_complaint):
    complaint = make_complaint("triaged")
    version = complaint.version
    page = admin_client.get(url("complaint_change", complaint.pk))
    data = change_form_data(page)
    data.update({"title": "Kettle leaks water", "change_reason": "Customer clarified"})

    response = admin_client.post(url("complaint_change", complaint.pk), data)

    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.title == "Kettle leaks water"
    assert complaint.version == version + 1
    assert complaint.status == "triaged"
    record = complaint.history.latest("history_date")
    assert record.history_user == org.admin
    assert record.history_change_reason == "Customer clarified"
    event = complaint.events.get(kind=ComplaintEvent.Kind.FIELD_CHANGED)
    assert event.actor == org.admin
    assert event.data["changes"]["title"] == {
        "from": "Kettle stopped working",
        "to": "Kettle leaks water",
    }


def test_an_edit_over_someone_elses_change_is_refused(admin_client, org, make_complaint):
    complaint = make_complaint("triaged")
    page = admin_client.get(url("complaint_change", complaint.pk))
    data = change_form_data(page)
    # Someone else changes the complaint after the page was opened.
    complaint_update(complaint=complaint, actor=org.supervisor, order_number="A-1")
    data["title"] = "Overwrite"

    response = admin_client.post(url("complaint_change", complaint.pk), data, follow=True)

    complaint.refresh_from_db()
    assert complaint.title == "Kettle stopped working"
    assert complaint.order_number == "A-1"
    assert any("changed by someone else" in m for m in messages_of(response))


def test_posted_status_is_ignored(admin_client, make_complaint):
    complaint = make_complaint("triaged")
    page = admin_client.get(url("complaint_change", complaint.pk))
    data = change_form_data(page)
    data.update({"status": "closed", "assignee": "1", "tracking_number": "HACKED"})

    admin_client.post(url("complaint_change", complaint.pk), data)

    complaint.refresh_from_db()
    assert complaint.status == "triaged"
    assert complaint.tracking_number != "HACKED"
    assert complaint.assignee_id is None


def test_a_terminal_complaint_is_view_only(admin_client, make_complaint):
    complaint = make_complaint("rejected")

    page = admin_client.get(url("complaint_change", complaint.pk))

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert 'name="title"' not in page.text
    assert "Reason for the change" not in page.text


def test_complaints_cannot_be_added_or_deleted_even_by_a_superuser(client, org, make_complaint):
    complaint = make_complaint("new")
    org.admin.is_superuser = True
    org.admin.save(update_fields=["is_superuser"])
    client.force_login(org.admin)

    add = client.get(url("complaint_add"))
    delete = client.post(url("complaint_delete", complaint.pk), {"post": "yes"})
    listing = client.get(url("complaint_changelist"))

    assert add.status_code == 403
    assert delete.status_code == 403
    assert Complaint.objects.filter(pk=complaint.pk).exists()
    actions = dict(listing.context["action_form"].fields["action"].choices)
    assert "delete_selected" not in actions


# --- Transitions as actions --------------------------------------------------------------------


def test_transition_form_covers_every_transition_with_the_services_keywords(org):
    for name in TRANSITIONS:
        form = TransitionActionForm(actor=org.admin, transition=name)
        required, optional = TRANSITION_FIELDS[name]
        form.cleaned_data = {"transition": name, **dict.fromkeys((*required, *optional), "x")}
        accepted = set(inspect.signature(SERVICES[name]).parameters) - {"complaint", "actor"}
        assert set(form.service_inputs()) <= accepted, name
        assert set(form.fields) == {*required, *optional}, name


def test_generic_action_page_lists_the_transitions(admin_client, make_complaint):
    complaint = make_complaint("new")

    page = run_action(admin_client, "apply_transition", [complaint])

    assert page.status_code == 200
    assert set(page.context["form"].fields) >= {
        "transition",
        "reason",
        "recourse",
        "summary",
        "root_cause",
        "remedy",
        "assignee",
        "category",
        "priority",
    }
    assert "Hand back to the queue" in page.text
    complaint.refresh_from_db()
    assert complaint.status == "new"


def test_close_action_asks_for_a_reason_first(admin_client, make_complaint):
    complaint = make_complaint("resolved")

    page = run_action(admin_client, "transition_close", [complaint])

    assert page.status_code == 200
    assert page.templates[0].name == "admin/complaints/complaint/transition.html"
    assert complaint.tracking_number in page.text
    complaint.refresh_from_db()
    assert complaint.status == "resolved"


def test_close_action_closes_through_the_service(admin_client, org, make_complaint):
    complaint = make_complaint("resolved")

    response = run_action(
        admin_client, "transition_close", [complaint], reason="Customer confirmed by phone"
    )

    complaint.refresh_from_db()
    assert complaint.status == "closed"
    assert complaint.closed_at is not None
    change = complaint.status_changes.latest("created_at", "pk")
    assert (change.transition, change.from_status, change.to_status) == (
        "close",
        "resolved",
        "closed",
    )
    assert change.actor == org.admin
    assert change.reason == "Customer confirmed by phone"
    assert complaint.history.latest("history_date").history_user == org.admin
    assert any(complaint.tracking_number in m and "Closed" in m for m in messages_of(response))


def test_close_without_a_reason_shows_the_form_again(admin_client, make_complaint):
    complaint = make_complaint("resolved")

    page = run_action(admin_client, "transition_close", [complaint], reason="  ")

    assert page.status_code == 200
    assert page.context["form"].errors["reason"]
    complaint.refresh_from_db()
    assert complaint.status == "resolved"


def test_reopen_action_reopens_through_the_service(admin_client, org, make_complaint):
    complaint = make_complaint("closed")

    run_action(admin_client, "transition_reopen", [complaint], reason="Broke again")

    complaint.refresh_from_db()
    assert complaint.status == "reopened"
    assert complaint.reopen_count == 1
    change = complaint.status_changes.latest("created_at", "pk")
    assert (change.transition, change.from_status, change.actor) == ("reopen", "closed", org.admin)


def test_reject_through_the_generic_action(admin_client, org, make_complaint):
    complaint = make_complaint("new")

    run_action(
        admin_client,
        "apply_transition",
        [complaint],
        transition="reject",
        reason="Not our product",
        recourse="12315 hotline",
    )

    complaint.refresh_from_db()
    assert complaint.status == "rejected"
    assert complaint.recourse == "12315 hotline"
    change = complaint.status_changes.get(transition="reject")
    assert (change.from_status, change.actor, change.reason) == (
        "new",
        org.admin,
        "Not our product",
    )


def test_generic_action_requires_the_inputs_of_the_chosen_transition(admin_client, make_complaint):
    complaint = make_complaint("new")

    page = run_action(
        admin_client, "apply_transition", [complaint], transition="reject", reason="No"
    )

    assert page.status_code == 200
    assert "recourse" in page.context["form"].errors
    complaint.refresh_from_db()
    assert complaint.status == "new"
    assert not complaint.status_changes.filter(transition="reject").exists()


def test_assign_through_the_generic_action(admin_client, org, make_complaint):
    complaint = make_complaint("triaged")

    run_action(
        admin_client,
        "apply_transition",
        [complaint],
        transition="assign",
        assignee=str(org.agent2.pk),
    )

    complaint.refresh_from_db()
    assert complaint.status == "assigned"
    assert complaint.assignee == org.agent2
    assert complaint.status_changes.get(transition="assign").actor == org.admin


def test_release_action(admin_client, org, make_complaint):
    complaint = make_complaint("in_progress")

    run_action(admin_client, "transition_release", [complaint], reason="Agent on leave")

    complaint.refresh_from_db()
    assert complaint.status == "triaged"
    assert complaint.assignee is None


def test_refused_action_leaves_the_status_and_reports_the_error(admin_client, make_complaint):
    complaint = make_complaint("new")

    response = run_action(admin_client, "transition_close", [complaint], reason="Done")

    complaint.refresh_from_db()
    assert complaint.status == "new"
    assert not complaint.status_changes.filter(transition="close").exists()
    errors = [m for m in messages_of(response) if complaint.tracking_number in m]
    assert errors == [
        f"{complaint.tracking_number}: A complaint that is “New” cannot be changed by “Close”."
    ]


def test_action_reports_each_complaint_separately(admin_client, make_complaint):
    resolved = make_complaint("resolved")
    new = make_complaint("new")

    response = run_action(admin_client, "transition_close", [resolved, new], reason="Done")

    resolved.refresh_from_db()
    new.refresh_from_db()
    assert (resolved.status, new.status) == ("closed", "new")
    messages = messages_of(response)
    assert any(resolved.tracking_number in m and "Closed" in m for m in messages)
    assert any(new.tracking_number in m and "cannot be changed" in m for m in messages)


def test_start_action_needs_no_page_and_refuses_a_non_assignee(admin_client, make_complaint):
    complaint = make_complaint("assigned")

    response = run_action(admin_client, "transition_start", [complaint])

    complaint.refresh_from_db()
    assert complaint.status == "assigned"
    assert any("Only the assignee" in m for m in messages_of(response))


def test_view_only_staff_get_no_transition_actions(client, org, make_complaint):
    make_complaint("resolved")
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_complaint"))
    client.force_login(viewer)

    listing = client.get(url("complaint_changelist"))

    assert listing.status_code == 200
    assert listing.context["action_form"] is None


# --- The logs and the history: read only ---------------------------------------------------------


def test_status_change_inline_is_read_only(admin_client, make_complaint):
    complaint = make_complaint("in_progress")

    page = admin_client.get(url("complaint_change", complaint.pk))

    inlines = {fs.formset.prefix: fs for fs in page.context["inline_admin_formsets"]}
    status_changes = inlines["status_changes"]
    # Received, triaged, assigned, started.
    assert len(status_changes.formset.forms) == complaint.status_changes.count() == 4
    assert not status_changes.has_add_permission
    assert not status_changes.has_change_permission
    assert not status_changes.has_delete_permission
    assert not inlines["events"].has_change_permission


@pytest.mark.parametrize("model", ["statuschange", "complaintevent"])
def test_logs_are_view_only_even_for_a_superuser(client, org, make_complaint, model):
    complaint = make_complaint("triaged")
    row = (StatusChange if model == "statuschange" else ComplaintEvent).objects.filter(
        complaint=complaint
    )[0]
    org.admin.is_superuser = True
    org.admin.save(update_fields=["is_superuser"])
    client.force_login(org.admin)

    assert client.get(url(f"{model}_changelist")).status_code == 200
    assert client.get(url(f"{model}_change", row.pk)).status_code == 200
    assert client.get(url(f"{model}_add")).status_code == 403
    assert client.post(url(f"{model}_change", row.pk), {"reason": "x"}).status_code == 403
    assert client.post(url(f"{model}_delete", row.pk), {"post": "yes"}).status_code == 403
    assert type(row).objects.filter(pk=row.pk).exists()


def test_history_page_shows_versions_without_a_revert_link(admin_client, make_complaint):
    complaint = make_complaint("triaged")

    page = admin_client.get(url("complaint_history", complaint.pk))

    assert page.status_code == 200
    record = complaint.history.latest("history_date")
    revert_url = url("complaint_simple_history", complaint.pk, record.history_id)
    assert revert_url not in page.text
    changes = page.context["page_obj"][0].history_delta_changes
    shown = {c["field"]: (str(c["old"]), str(c["new"])) for c in changes}
    assert shown["Status"] == ("New", "Triaged")
    assert shown["Category"] == ("—", "Product quality")


@pytest.mark.parametrize("method", ["get", "post"])
def test_history_revert_view_is_refused(client, org, make_complaint, method):
    complaint = make_complaint("triaged")
    first = complaint.history.earliest("history_date")
    org.admin.is_superuser = True
    org.admin.save(update_fields=["is_superuser"])
    client.force_login(org.admin)
    revert_url = url("complaint_simple_history", complaint.pk, first.history_id)

    response = getattr(client, method)(revert_url, {"title": "Reverted"})

    assert response.status_code == 403
    complaint.refresh_from_db()
    assert complaint.status == "triaged"
    assert complaint.title == "Kettle stopped working"


def test_configuration_history_revert_is_refused(admin_client, org):
    org.category.name = "Renamed"
    org.category.save()
    first = org.category.history.earliest("history_date")

    response = admin_client.post(
        url("category_simple_history", org.category.pk, first.history_id),
        {"name": "Product quality", "code": "quality", "sort_order": "0"},
    )

    assert response.status_code == 403
    org.category.refresh_from_db()
    assert org.category.name == "Renamed"


# --- Query counts ---------------------------------------------------------------------------------


def _changelist_queries(client, path: str) -> int:
    client.get(path)  # configuration read once (config_cache)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def test_complaint_changelist_queries_do_not_grow_with_rows(admin_client, org, make_complaint):
    child = CategoryFactory(
        name="Kettles", code="kettles", parent=org.category, default_team=org.team
    )
    grandchild = CategoryFactory(name="Lids", code="lids", parent=child, default_team=org.team)
    states = ["new", "triaged", "in_progress"]

    def add(count: int) -> None:
        for i in range(count):
            complaint = make_complaint(states[i % 3])
            if complaint.status != "new":
                complaint_update(
                    complaint=complaint,
                    actor=org.supervisor,
                    category=grandchild if i % 2 else child,
                )

    add(3)
    few = _changelist_queries(admin_client, url("complaint_changelist"))
    add(12)
    many = _changelist_queries(admin_client, url("complaint_changelist"))

    assert Complaint.objects.count() == 15
    assert many == few
    assert "Product quality / Kettles / Lids" in admin_client.get(url("complaint_changelist")).text


@pytest.mark.parametrize("model", ["category", "product", "customer", "statuschange"])
def test_configuration_lists_do_not_grow_with_rows(admin_client, org, make_complaint, model):
    def add(count: int) -> None:
        for _i in range(count):
            parent = CategoryFactory(parent=org.category)
            CategoryFactory(parent=parent)
            ProductFactory(category=parent)
            make_complaint("triaged", customer=CustomerFactory())

    add(2)
    few = _changelist_queries(admin_client, url(f"{model}_changelist"))
    add(8)
    many = _changelist_queries(admin_client, url(f"{model}_changelist"))

    assert Customer.objects.count() >= 10
    assert many == few

"""SOPs: which version a complaint follows, the checklist, and saving new versions."""

from __future__ import annotations

import pytest

from complaints import roles
from complaints.errors import ActionForbidden, InvalidInput, NotFound
from complaints.models import ComplaintEvent, Sop, SopCheck
from complaints.services import guidance
from complaints.services.editing import complaint_update
from tests.factories import CategoryFactory
from tests.guidance.conftest import STEPS

pytestmark = pytest.mark.django_db
Kind = ComplaintEvent.Kind


def _save(org, category, title="SOP", steps=("Step A", "Step B"), **kwargs):
    return guidance.sop_save_version(
        category=category, actor=org.admin, title=title, steps=list(steps), **kwargs
    )


def _sop_events(complaint):
    return list(complaint.events.filter(kind=Kind.SOP_STEP).order_by("pk"))


# --- Which version ---------------------------------------------------------------------------


def test_a_complaint_follows_its_own_categorys_current_sop(org, make_complaint, sop):
    complaint = make_complaint("in_progress")  # in org.category
    assert guidance.sop_for_complaint(complaint) == sop


def test_a_subcategory_without_sop_falls_back_to_the_nearest_ancestor(org, working, sop, kettles):
    grandchild = CategoryFactory(name="Glass kettles", code="glass", parent=kettles)
    complaint_update(complaint=working, actor=org.agent, category=grandchild, reason="finer")
    working.refresh_from_db()
    assert guidance.sop_for_complaint(working) == sop

    own = _save(org, kettles, title="Kettle SOP")
    working.refresh_from_db()
    assert guidance.sop_for_complaint(working) == own  # the nearer ancestor wins


def test_no_sop_without_category_or_without_any_sop_in_the_chain(org, make_complaint, kettles):
    assert guidance.sop_for_complaint(make_complaint("new")) is None
    _save(org, org.category_b)  # another branch of the tree
    working = make_complaint("in_progress")
    assert guidance.sop_for_complaint(working) is None
    assert guidance.sop_checklist(working) is None


def test_checks_stay_bound_to_their_version_after_a_new_one_is_saved(org, working, sop):
    guidance.sop_step_check(complaint=working, actor=org.agent, step=2)
    v2 = _save(org, org.category, title="Product quality SOP", steps=["New only step"])

    assert guidance.sop_for_complaint(working) == sop
    checklist = guidance.sop_checklist(working)
    assert checklist.sop == sop and not checklist.sop.is_current
    assert [s.text for s in checklist.steps] == STEPS
    assert [s.done for s in checklist.steps] == [False, True, False]
    # Step 3 exists in version 1 only, and may still be checked against it.
    guidance.sop_step_check(complaint=working, actor=org.agent, step=3)
    assert set(SopCheck.objects.values_list("sop__version", "step")) == {(1, 2), (1, 3)}

    # A complaint without checks follows the new version.
    other = working.__class__.objects.exclude(pk=working.pk).first()
    assert other is None
    fresh = CategoryFactory(name="Lids", code="lids", parent=org.category)
    complaint_update(complaint=working, actor=org.agent, category=fresh, reason="lids")
    assert guidance.sop_for_complaint(working) == sop  # still bound: it has checks
    guidance.sop_step_uncheck(complaint=working, actor=org.agent, step=2)
    guidance.sop_step_uncheck(complaint=working, actor=org.agent, step=3)
    assert guidance.sop_for_complaint(working) == v2  # no checks left: the current one


# --- Checking steps ------------------------------------------------------------------------------


def test_checking_a_step_records_it_with_a_snapshot_and_an_internal_event(org, working, sop):
    check = guidance.sop_step_check(complaint=working, actor=org.agent, step=1)

    assert (check.sop, check.step, check.checked_by) == (sop, 1, org.agent)
    assert check.step_text == STEPS[0]
    [event] = _sop_events(working)
    assert event.is_internal and event.actor == org.agent
    assert STEPS[0] in event.body
    assert event.data == {
        "sop": sop.pk,
        "sop_title": sop.title,
        "version": 1,
        "step": 1,
        "checked": True,
    }
    checklist = guidance.sop_checklist(working)
    assert checklist.steps[0].done and checklist.steps[0].by == org.agent
    assert checklist.steps[0].at == check.checked_at
    assert checklist.done_count == 1 and not checklist.complete


def test_checking_twice_is_a_no_op(org, working, sop):
    first = guidance.sop_step_check(complaint=working, actor=org.agent, step=1)
    second = guidance.sop_step_check(complaint=working, actor=org.agent2, step=1)
    assert second.pk == first.pk and second.checked_by == org.agent
    assert SopCheck.objects.count() == 1
    assert len(_sop_events(working)) == 1


def test_unchecking_deletes_the_check_and_says_so_in_the_timeline(org, working, sop):
    guidance.sop_step_check(complaint=working, actor=org.agent, step=3)
    assert guidance.sop_step_uncheck(complaint=working, actor=org.agent2, step=3) is True

    assert not SopCheck.objects.exists()
    events = _sop_events(working)
    assert [e.data["checked"] for e in events] == [True, False]
    assert events[1].actor == org.agent2 and STEPS[2] in events[1].body
    # Unchecking an open step changes nothing.
    assert guidance.sop_step_uncheck(complaint=working, actor=org.agent, step=3) is False
    assert len(_sop_events(working)) == 2


@pytest.mark.parametrize("step", [0, 4, -1, "x", None])
def test_a_step_outside_the_sop_is_refused(org, working, sop, step):
    with pytest.raises(InvalidInput) as err:
        guidance.sop_step_check(complaint=working, actor=org.agent, step=step)
    assert "step" in err.value.fields
    assert not SopCheck.objects.exists()


def test_checking_without_an_sop_is_refused(org, make_complaint):
    complaint = make_complaint("in_progress")
    with pytest.raises(InvalidInput, match="No SOP"):
        guidance.sop_step_check(complaint=complaint, actor=org.agent, step=1)


def test_an_agent_of_another_team_cannot_see_the_complaint(org, working, sop):
    for user in (org.agent_b, org.responder, org.outsider):
        with pytest.raises(NotFound):
            guidance.sop_step_check(complaint=working, actor=user, step=1)
    assert not SopCheck.objects.exists()


def test_a_rejected_complaint_is_read_only(org, make_complaint, sop):
    complaint = make_complaint("rejected", category=org.category)
    with pytest.raises(ActionForbidden):
        guidance.sop_step_check(complaint=complaint, actor=org.agent, step=1)
    with pytest.raises(ActionForbidden):
        guidance.sop_step_uncheck(complaint=complaint, actor=org.supervisor, step=1)
    assert not SopCheck.objects.exists()


def test_the_supervisor_may_check_the_system_may_not(org, working, sop):
    check = guidance.sop_step_check(complaint=working, actor=org.supervisor, step=1)
    assert guidance.sop_checklist(working).steps[0].by == org.supervisor == check.checked_by
    with pytest.raises(ActionForbidden):
        guidance.sop_step_check(complaint=working, actor=roles.SYSTEM, step=2)
    assert SopCheck.objects.count() == 1


# --- The checklist's cost ------------------------------------------------------------------------


def test_the_checklist_takes_at_most_three_queries(
    org, working, sop, kettles, django_assert_max_num_queries
):
    deep = CategoryFactory(name="Deep", code="deep", parent=kettles)
    complaint_update(complaint=working, actor=org.agent, category=deep, reason="deeper")
    working.refresh_from_db()
    with django_assert_max_num_queries(3):
        assert guidance.sop_checklist(working).sop == sop
    for step in (1, 2, 3):
        guidance.sop_step_check(complaint=working, actor=org.agent, step=step)
    working.refresh_from_db()
    with django_assert_max_num_queries(3):
        checklist = guidance.sop_checklist(working)
        assert checklist.complete
        assert [str(s.by) for s in checklist.steps] == [str(org.agent)] * 3


# --- Versions ----------------------------------------------------------------------------------


def test_saving_makes_the_next_version_the_only_current_one(org, sop):
    v2 = _save(org, org.category, title="Product quality SOP v2", steps=["Only step"])
    v3 = _save(org, org.category, title="Product quality SOP v3", steps=["Only step"])

    sop.refresh_from_db()
    v2.refresh_from_db()
    assert (sop.version, v2.version, v3.version) == (1, 2, 3)
    assert [s.is_current for s in (sop, v2, v3)] == [False, False, True]
    assert sop.steps == STEPS  # the old version is untouched
    assert v3.created_by == org.admin
    # Another category's versions are counted on their own.
    assert _save(org, org.category_b).version == 1


def test_saving_the_same_content_creates_no_version(org, sop):
    again = guidance.sop_save_version(
        category=org.category,
        actor=org.admin,
        title=" Product quality SOP ",
        steps="\n".join(STEPS) + "\n\n",
        allowed_remedies=["replacement", "refund"],
        time_limit_hours="48",
        standard_wording="We are sorry for the trouble.",
    )
    assert again == sop
    assert Sop.objects.count() == 1


def test_steps_given_as_text_are_one_per_line(org):
    saved = guidance.sop_save_version(
        category=org.category,
        actor=org.admin,
        title="SOP",
        steps="  First \n\nSecond\n",
        allowed_remedies=("apology",),
    )
    assert saved.steps == ["First", "Second"]
    assert saved.allowed_remedies == ["apology"]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"steps": []}, "steps"),
        ({"steps": "\n \n"}, "steps"),
        ({"title": "  "}, "title"),
        ({"allowed_remedies": ["refund", "free_car"]}, "allowed_remedies"),
        ({"time_limit_hours": 0}, "time_limit_hours"),
        ({"time_limit_hours": "soon"}, "time_limit_hours"),
    ],
)
def test_bad_sops_are_refused_with_the_field_named(org, kwargs, field):
    values = {"title": "SOP", "steps": ["A"], **kwargs}
    with pytest.raises(InvalidInput) as err:
        guidance.sop_save_version(category=org.category, actor=org.admin, **values)
    assert list(err.value.fields) == [field]
    assert not Sop.objects.exists()


def test_only_administrators_save_sops(org, sop):
    for user in (org.agent, org.supervisor, org.responder):
        with pytest.raises(ActionForbidden):
            guidance.sop_save_version(category=org.category, actor=user, title="Mine", steps=["A"])
    assert Sop.objects.count() == 1

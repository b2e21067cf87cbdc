"""complaints.widgets.FastSelect: the markup of forms.Select, labels and values escaped."""

import re

import pytest
from django import forms

from complaints.widgets import FastSelect

CHOICES = [("", "Anyone"), ("1", "<b>Li & Wang</b>"), ('2"x', "Zhang")]
GROUPED = [("Front line", [("a", "Alpha"), ("b", "Beta")]), ("c", "Gamma")]


def _compact(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


@pytest.mark.parametrize(
    ("choices", "value", "attrs", "multiple"),
    [
        (CHOICES, "1", {"class": "form-select", "id": "id_who"}, False),
        (CHOICES, None, {"required": True}, False),
        (GROUPED, "b", {}, False),
        (CHOICES, ["1", '2"x'], {"id": "id_many"}, True),
    ],
)
def test_the_same_markup_as_django_select(choices, value, attrs, multiple):
    plain_class, fast_class = (
        (
            forms.SelectMultiple,
            type("FastMultiple", (FastSelect,), {"allow_multiple_selected": True}),
        )
        if multiple
        else (forms.Select, FastSelect)
    )
    plain = plain_class(choices=choices).render("who", value, attrs=attrs)
    fast = fast_class(choices=choices).render("who", value, attrs=attrs)
    assert _compact(fast) == _compact(plain)


def test_labels_and_values_are_escaped():
    html = FastSelect(choices=CHOICES).render("who", "1")
    assert '<option value="1" selected>&lt;b&gt;Li &amp; Wang&lt;/b&gt;</option>' in html
    assert '<option value="2&quot;x">Zhang</option>' in html
    assert "<b>" not in html


def test_in_a_form_the_choice_validates():
    class Form(forms.Form):
        who = forms.ChoiceField(choices=CHOICES, widget=FastSelect, required=False)

    form = Form(data={"who": "1"})
    assert form.is_valid(), form.errors
    assert 'id="id_who"' in str(form["who"])

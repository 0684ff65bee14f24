"""A service's refusal, told the same way on every page (openbook/refusals.py)."""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError

from openbook.errors import Conflict, ProblemList
from openbook.refusals import attempt


class NameForm(forms.Form):
    name = forms.CharField()


def test_a_refusal_naming_a_field_goes_on_that_field():
    form = NameForm({"name": "Borchester"})
    assert form.is_valid()
    with attempt(form=form) as call:
        raise ValidationError({"name": "That name is taken.", "other": "Something else."})
    assert not call.ok
    assert form.errors["name"] == ["That name is taken."]
    # A name the form does not have is on the form as a whole, not lost.
    assert form.non_field_errors() == ["Something else."]


def test_a_refusal_naming_no_field_and_a_conflict_go_on_the_form_as_a_whole():
    form = NameForm({"name": "Borchester"})
    form.is_valid()
    with attempt(form=form):
        raise ValidationError("The round has closed.")
    with attempt(form=form):
        raise Conflict("Someone else changed it first.")
    assert form.non_field_errors() == ["The round has closed.", "Someone else changed it first."]


def test_a_problem_list_keeps_its_problems_and_a_plain_refusal_becomes_one():
    with attempt() as listed:
        raise ProblemList(
            "2 problems.", [{"cell": "F100, Apr", "value": "x", "problem": "not a number"}]
        )
    assert listed.refusal.as_problems("Spread")[0]["cell"] == "F100, Apr"
    with attempt() as plain:
        raise ValidationError("Nothing to spread.")
    assert plain.refusal.as_problems("Spread") == [
        {"cell": "Spread", "value": "", "problem": "Nothing to spread."}
    ]


def test_nothing_refused_is_ok_and_other_errors_are_not_caught():
    with attempt() as call:
        pass
    assert call.ok
    try:
        with attempt():
            raise PermissionDenied("not yours")
    except PermissionDenied:
        pass
    else:
        raise AssertionError("a permission refusal must reach the 403 page")

"""The list of planning rounds and, for each, where every plan a person can see stands."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts import policy
from accounts.selectors import organisations_visible_to
from plans import selectors


@login_required
def round_list(request):
    return render(
        request, "plans/round_list.html", {"rounds": selectors.rounds_visible_to(request.user)}
    )


@login_required
def round_detail(request, slug):
    plan_round = selectors.round_get(request.user, slug)
    submissions = {
        s.organisation_id: s
        for s in selectors.submissions_visible_to(request.user).filter(round=plan_round)
    }
    own_ids = policy.member_organisation_ids(request.user)
    rows = []
    for organisation in organisations_visible_to(request.user).order_by("system__name", "name"):
        submission = submissions.get(organisation.pk)
        rows.append(
            {
                "organisation": organisation,
                "submission": submission,
                "own": organisation.pk in own_ids,
            }
        )
    return render(
        request,
        "plans/round_detail.html",
        {"round": plan_round, "own_rows": [r for r in rows if r["own"]], "rows": rows},
    )

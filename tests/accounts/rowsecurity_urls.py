"""Pages that report the database's row-security state as a request sees it (the tests of
accounts/rowsecurity.py use them as their URL configuration)."""

from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Region
from accounts.rowsecurity import consistent_snapshot

STATE = """
    SELECT current_user, coalesce(current_setting('openbook.scope', true), ''),
           coalesce(current_setting('openbook.user_id', true), ''),
           current_setting('transaction_isolation'),
           (SELECT count(*) FROM plans_version WHERE number = 0)
"""


def state() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(STATE)
        role, scope, user_id, isolation, drafts = cursor.fetchone()
    return {"role": role, "scope": scope, "user_id": user_id, "isolation": isolation,
            "drafts": drafts}  # fmt: skip


def probe(request):
    return JsonResponse(state())


@consistent_snapshot
def snapshot_probe(request):
    return JsonResponse(state())


def fails(request):
    Region.objects.create(code="made", name="Made, then the request failed")
    return HttpResponseServerError("failed")


class ApiProbe(APIView):
    def get(self, request):
        return Response(state())


urlpatterns = [
    path("probe/", probe),
    path("snapshot/", snapshot_probe),
    path("fails/", fails),
    path("api/probe/", ApiProbe.as_view()),
]

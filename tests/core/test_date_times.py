"""Times go out in the user's zone, always as RFC 3339 can write them: a zone's local mean time
before standard time (seconds in its offset) goes out in UTC instead, the same instant."""

import re
from datetime import UTC, datetime

import pytest

from accounts.models import UserSettings

pytestmark = pytest.mark.django_db

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@pytest.mark.parametrize("zone", ["America/Chicago", "Asia/Seoul"])
def test_a_time_before_standard_time_goes_out_as_rfc_3339(user_client, user, zone):
    UserSettings.objects.filter(user=user).update(time_zone=zone)
    response = user_client.post("/api/v1/todos", {"title": "old", "todo_date": "0449-01-23T20:05:09Z"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert RFC3339.match(body["todo_date"]), body["todo_date"]
    assert datetime.fromisoformat(body["todo_date"]) == datetime(449, 1, 23, 20, 5, 9, tzinfo=UTC)
    # Times of today keep the user's offset.
    assert not body["created_at"].endswith("Z") and RFC3339.match(body["created_at"])
    listed = user_client.get("/api/v1/todos").json()["results"][0]["todo_date"]
    assert listed == body["todo_date"]

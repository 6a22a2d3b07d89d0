"""The daily tool-call limit holds when two replies of one user take the last call at once (a
process's background threads run several replies' calls at the same time, and so do processes)."""

import threading
import uuid

import pytest
from django.db import connection

from tools.models import ToolCall
from tools.services import tool_call_begin

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_replies_taking_the_last_call_at_once_get_it_once(user):
    plan = user.settings.plan
    plan.daily_tool_call_limit = 3
    plan.save()
    for n in range(2):
        ToolCall.objects.create(user=user, server="weather", tool="forecast", message_id=uuid.uuid4(), call_id=f"{n}")
    ready = threading.Barrier(6)
    taken = []

    def take():
        try:
            ready.wait(5)
            call = tool_call_begin(
                user_id=user.pk, message_id=uuid.uuid4(), call_id="call_1", server="weather", tool="forecast"
            )
            taken.append(call is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(taken) == [False] * 5 + [True]
    assert ToolCall.objects.filter(user=user).count() == 3

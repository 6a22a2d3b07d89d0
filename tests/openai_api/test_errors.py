"""OpenAI's error shape and statuses (``openai_api/errors.py``), what its SDKs branch on: the
``param`` a 400 names, the service's refusals in OpenAI's terms (404 for a model outside the plan,
429 with Retry-After, retried by the SDK for the plan's concurrent replies and not for the day's
quota, 503 for a moment's outage), and a reply
that failed, 503 when trying again may work and 502, not to be retried, when not."""

import json

import pytest
from django.test import Client

from accounts import services as account_services
from conversations.exceptions import DailyQuotaExceeded, GenerationInProgress, PlanLimitExceeded, TooManyGenerations
from core.exceptions import DomainError, NotPermitted, ServiceUnavailable
from openai_api import errors
from openai_api.errors import _TRANSIENT, OpenAIError, first_field_error, from_refusal, reply_failed
from tests.conversations.factories import LLMModelFactory


def _sent(error: OpenAIError) -> tuple[int, dict, dict]:
    """(status, body, headers) as the client receives them."""
    response = error.response()
    return response.status_code, json.loads(response.content), dict(response.headers)


# --- first_field_error ----------------------------------------------------------------------


def test_a_top_level_field_is_named_as_is():
    assert first_field_error({"n": ["Ensure this value is less than or equal to 1."]}) == (
        "n",
        "Ensure this value is less than or equal to 1.",
    )


def test_a_list_items_error_is_named_by_index_as_openai_does():
    # DRF's ListField keys its children's errors by their index.
    detail = {"messages": {2: {"content": ["Null characters are not allowed."]}}}
    assert first_field_error(detail) == ("messages[2].content", "Null characters are not allowed.")


def test_a_nested_serializers_field_is_named_by_its_path():
    detail = {"stream_options": {"include_usage": ["Must be true or false."]}}
    assert first_field_error(detail) == ("stream_options.include_usage", "Must be true or false.")


def test_non_field_errors_name_their_container():
    assert first_field_error({"messages": {0: {"non_field_errors": ["Invalid data."]}}}) == (
        "messages[0]",
        "Invalid data.",
    )
    # At the top the body as a whole is at fault: no param (the view sends null).
    assert first_field_error({"non_field_errors": ["Bad body."]}) == ("", "Bad body.")


def test_a_list_of_per_item_errors_skips_the_items_without_one():
    # A ListSerializer's shape: one entry per item, empty for the valid ones.
    detail = {"messages": [{}, {}, {"role": ['"bot" is not a valid choice.']}]}
    assert first_field_error(detail) == ("messages[2].role", '"bot" is not a valid choice.')


def test_the_first_of_several_errors_is_the_one_named():
    detail = {"model": ["This field is required."], "messages": {0: {"content": ["x"]}}}
    assert first_field_error(detail) == ("model", "This field is required.")
    assert first_field_error({"stop": ["First.", "Second."]}) == ("stop", "First.")


def test_a_bare_message_has_no_param():
    assert first_field_error(["The body is wrong."]) == ("", "The body is wrong.")
    assert first_field_error("The body is wrong.") == ("", "The body is wrong.")


# --- the shape of an error ------------------------------------------------------------------


def test_an_error_is_openais_object_under_error():
    status, body, headers = _sent(errors.invalid("Bad stop.", param="stop"))
    assert status == 400
    assert body == {"error": {"message": "Bad stop.", "type": "invalid_request_error", "param": "stop", "code": None}}
    assert headers["Content-Type"] == "application/json"
    assert "Retry-After" not in headers
    assert "x-should-retry" not in headers


def test_a_bad_key_is_a_401_with_a_bearer_challenge():
    status, body, headers = _sent(errors.invalid_key())
    assert status == 401
    assert body["error"]["code"] == "invalid_api_key"
    assert body["error"]["type"] == "invalid_request_error"
    assert "sk-" in body["error"]["message"]
    assert headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_unknown_model_is_a_404_naming_it():
    status, body, _headers = _sent(errors.model_not_found("gpt-9"))
    assert status == 404
    assert body["error"]["code"] == "model_not_found"
    assert body["error"]["param"] == "model"
    assert "'gpt-9'" in body["error"]["message"]


# --- from_refusal ---------------------------------------------------------------------------


def test_a_model_outside_the_plan_does_not_exist_for_the_caller():
    refusal = NotPermitted("Your plan does not include the model 'big'.", code="model_not_in_plan")
    status, body, _headers = _sent(from_refusal(refusal, model="big"))
    assert status == 404
    assert body["error"]["code"] == "model_not_found"
    assert body["error"]["param"] == "model"
    assert "plan" not in body["error"]["message"]  # as OpenAI says it: no such model for you


def test_the_daily_quota_is_a_429_to_retry_after_the_wait_and_not_at_once():
    status, body, headers = _sent(from_refusal(DailyQuotaExceeded(wait=3600), model="fast"))
    assert status == 429
    assert body["error"] == {
        "message": DailyQuotaExceeded.default_detail,
        "type": "insufficient_quota",
        "param": None,
        "code": "daily_quota_exceeded",
    }
    assert headers["Retry-After"] == "3600"
    # OpenAI's SDKs retry a 429 by themselves: each retry would fail again and count again.
    assert headers["x-should-retry"] == "false"


def test_the_plans_concurrent_replies_are_a_429_the_sdk_retries():
    # By then the request has waited for a slot (openai_api.slots): one ends soon, so the SDK
    # retries after Retry-After, as it does OpenAI's own rate limits.
    status, body, headers = _sent(from_refusal(TooManyGenerations("Your plan allows 1 reply at a time."), model="fast"))
    assert status == 429
    assert body["error"] == {
        "message": "Your plan allows 1 reply at a time.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert headers["Retry-After"] == "1"
    assert headers["x-should-retry"] == "true"


def test_another_plan_limit_without_a_known_wait_says_one_second_and_final():
    status, body, headers = _sent(from_refusal(PlanLimitExceeded(), model="fast"))
    assert status == 429
    assert body["error"]["code"] == "plan_limit_exceeded"
    assert headers["Retry-After"] == "1"
    assert headers["x-should-retry"] == "false"


def test_a_moment_of_outage_is_a_503_the_sdk_may_retry():
    status, body, headers = _sent(from_refusal(ServiceUnavailable(), model="fast"))
    assert status == 503
    assert body["error"]["type"] == "server_error"
    assert body["error"]["code"] == "service_unavailable"
    assert headers["Retry-After"] == "5"
    assert "x-should-retry" not in headers
    assert _sent(from_refusal(ServiceUnavailable(wait=2), model="fast"))[2]["Retry-After"] == "2"


def test_a_request_over_the_context_window_names_the_messages():
    refusal = DomainError("This model's context window is 4096 tokens.", code="context_length_exceeded")
    status, body, _headers = _sent(from_refusal(refusal, model="fast"))
    assert status == 400
    assert body["error"]["param"] == "messages"
    assert body["error"]["code"] == "context_length_exceeded"


def test_other_refusals_keep_their_status_and_code():
    status, body, headers = _sent(from_refusal(GenerationInProgress(), model="fast"))
    assert status == 409
    assert body["error"]["code"] == "generation_in_progress"
    assert body["error"]["param"] is None
    assert "Retry-After" not in headers
    status, body, _headers = _sent(from_refusal(NotPermitted("No.", code="api_disabled"), model="fast"))
    assert (status, body["error"]["code"]) == (403, "api_disabled")


# --- reply_failed ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(_TRANSIENT))
def test_a_reply_that_failed_for_a_passing_reason_is_a_503_to_retry(code):
    status, body, headers = _sent(reply_failed("The model's server did not answer.", code=code))
    assert status == 503
    assert body["error"] == {
        "message": "The model's server did not answer.",
        "type": "server_error",
        "param": None,
        "code": code,
    }
    assert "x-should-retry" not in headers


def test_the_upstreams_passing_failures_are_transient():
    # The codes the reply engine gives a failure a retry may cure.
    assert {"upstream_unreachable", "upstream_timeout", "upstream_rate_limited", "upstream_error"} <= _TRANSIENT
    assert "interrupted" in _TRANSIENT


def test_a_failure_without_a_code_is_taken_as_the_upstream_unavailable():
    status, body, _headers = _sent(reply_failed("It failed.", code=None))
    assert status == 503
    assert body["error"]["code"] == "upstream_unavailable"


@pytest.mark.parametrize("code", ["upstream_auth", "upstream_not_found", "upstream_bad_response", "no_model"])
def test_a_reply_that_failed_for_good_is_a_502_not_to_retry(code):
    status, body, headers = _sent(reply_failed("The upstream refused our key.", code=code))
    assert status == 502
    assert body["error"]["type"] == "server_error"
    assert body["error"]["code"] == code
    assert headers["x-should-retry"] == "false"


# --- through the view (no server) -----------------------------------------------------------


@pytest.fixture
def post_completion(db, user):
    LLMModelFactory(slug="fast")
    _key, secret = account_services.api_key_create(user=user, name="script")
    client = Client()

    def post(**body):
        body = {"model": "fast", "messages": [{"role": "user", "content": "Hi"}], **body}
        return client.post(
            "/v1/chat/completions", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
        )

    return post


def test_a_refused_body_is_openais_400_naming_the_param(post_completion):
    response = post_completion(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "messages[0].content"
    assert error["type"] == "invalid_request_error"
    assert error["code"] is None

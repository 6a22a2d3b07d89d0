"""API errors specific to conversations, each with a stable code clients can branch on."""

from rest_framework import status
from rest_framework.exceptions import APIException


class PlanLimitExceeded(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "A limit of your plan was reached."
    default_code = "plan_limit_exceeded"

    def __init__(self, detail=None, code=None, wait: int | None = None):
        super().__init__(detail, code)
        # DRF's exception handler turns ``wait`` into a Retry-After header.
        self.wait = wait


class DailyQuotaExceeded(PlanLimitExceeded):
    default_detail = "You have reached your plan's daily message limit. It resets at midnight UTC."
    default_code = "daily_quota_exceeded"


class TooManyGenerations(PlanLimitExceeded):
    default_detail = "Too many replies are being generated at once. Wait for one to finish or stop it."
    default_code = "too_many_generations"


class GenerationInProgress(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A reply is still being generated in this conversation."
    default_code = "generation_in_progress"


class NothingInFlight(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "No reply is being generated in this conversation."
    default_code = "nothing_in_flight"

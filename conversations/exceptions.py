"""Refusals specific to conversations, each with a stable code clients can branch on.

Domain errors (core.exceptions): services raise them, the API's one handler answers them.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import Conflict, DomainError, ReferenceNotFound


class PlanLimitExceeded(DomainError):
    status_code = 429
    code = "plan_limit_exceeded"
    default_detail = gettext_lazy("A limit of your plan was reached.")

    def __init__(self, detail: str | None = None, *, wait: int | None = None):
        super().__init__(detail or self.default_detail)
        self.wait = wait  # seconds until it lifts: the handler sends it as Retry-After


class DailyQuotaExceeded(PlanLimitExceeded):
    code = "daily_quota_exceeded"
    default_detail = gettext_lazy(
        "You have reached your plan's daily message limit. It resets at midnight in your time zone."
    )


class TooManyGenerations(PlanLimitExceeded):
    code = "too_many_generations"
    default_detail = gettext_lazy("Too many replies are being generated at once. Wait for one to finish or stop it.")


class GenerationInProgress(Conflict):
    code = "generation_in_progress"

    def __init__(self, detail: str | None = None):
        super().__init__(detail or _("A reply is still being generated in this conversation."))


class NothingInFlight(Conflict):
    code = "nothing_in_flight"

    def __init__(self, detail: str | None = None):
        super().__init__(detail or _("No reply is being generated in this conversation."))


class NothingToRegenerate(Conflict):
    code = "nothing_to_regenerate"

    def __init__(self, detail: str | None = None):
        super().__init__(detail or _("This conversation has no message to answer again."))


class NotLastMessage(Conflict):
    code = "not_last_message"

    def __init__(self, detail: str | None = None):
        super().__init__(detail or _("Only the conversation's last message of yours can be edited or answered again."))


class MessageNotFound(ReferenceNotFound):
    code = "message_not_found"

    def __init__(self, detail: str | None = None):
        super().__init__(detail or _("No message with this id in this conversation."))


class NotContinuable(Conflict):
    """``POST .../messages/{id}/continue`` refused: only the last reply, cut at the output limit,
    goes on. The detail is worded per request (gettext), the code never is."""

    def __init__(self, code: str):
        details = {
            "not_assistant_message": _("Only a reply of the assistant can be continued."),
            "not_last_message": _("Only the conversation's last reply can be continued."),
            "not_cut_off": _("This reply was not cut off at the length limit, so there is nothing to continue."),
        }
        super().__init__(details[code], code=code)


class UnsupportedParameter(DomainError):
    """A request parameter the model named cannot honour (it lacks the capability): refused rather
    than ignored, naming the parameter (``param``), as OpenAI's API does."""

    code = "unsupported_parameter"

    def __init__(self, detail: str, *, param: str):
        super().__init__(detail)
        self.param = param

"""Which LLM model a user gets: one rule for creating, changing, sending, cloning and generating.

The default model is the enabled one marked default, else the first enabled one in catalog order.
Whatever is picked, named or default, the user's plan must include it (a model listing no plans
is open to every plan).
"""

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import user_settings_get
from core.exceptions import Conflict, DomainError, NotPermitted

from .models import LLMModel


def _user_plan_id(user: User) -> int:
    return user_settings_get(user=user).plan_id


def _model_allowed_for(model: LLMModel, *, plan_id: int) -> bool:
    allowed = list(model.plans.values_list("id", flat=True))
    return not allowed or plan_id in allowed


def model_allowed_expression(model_field: str, plan_field: str) -> Q:
    """``_model_allowed_for`` as a condition of another read (the send's one read): the row's
    ``model_field`` model lists no plans, or lists the row's ``plan_field`` plan."""
    listed = LLMModel.plans.through.objects.filter(llmmodel_id=OuterRef(model_field))
    return ~Exists(listed) | Exists(listed.filter(plan_id=OuterRef(plan_field)))


def models_usable(*, user: User):
    """The enabled models the user's plan includes, in catalog order (what the user may name)."""
    plan_id = _user_plan_id(user)
    enabled = LLMModel.objects.filter(enabled=True)
    return enabled.filter(Q(plans__isnull=True) | Q(plans=plan_id)).distinct().order_by("order", "id")


def model_default() -> LLMModel | None:
    """The model of whoever names none, before their plan is considered."""
    enabled = LLMModel.objects.filter(enabled=True)
    return enabled.filter(is_default=True).first() or enabled.order_by("order", "id").first()


def model_resolve(*, user: User, slug: str | None, field: str = "model", plan_id: int | None = None) -> LLMModel:
    """The enabled model named ``slug`` (or the default one) that the user's plan may use.

    Pass ``plan_id`` when the caller already holds the user's settings, to save a query.
    """
    if slug:
        model = LLMModel.objects.filter(slug=slug, enabled=True).first()
        if model is None:
            raise ValidationError(
                {field: [_("Unknown or disabled model: %(model)s.") % {"model": repr(slug)}]}, code="invalid_model"
            )
    else:
        model = model_default()
        if model is None:  # the operator disabled every model: nothing the request could change
            raise Conflict(_("No model is available right now."), code="no_model")
    if not _model_allowed_for(model, plan_id=plan_id or _user_plan_id(user)):
        # The model exists; this user may not use it (a plan staff grant would include it).
        raise NotPermitted(
            _("Your plan does not include the model %(model)s.") % {"model": repr(model.slug)},
            code="model_not_in_plan",
        )
    return model


def model_for(
    *, user: User, preferred: LLMModel | None, plan_id: int | None = None, allowed: bool | None = None
) -> LLMModel:
    """``preferred`` while it is enabled and the user's plan includes it, otherwise the default
    (refused as in ``model_resolve`` when the default is not usable either). ``allowed``: whether
    the plan includes ``preferred``, when the caller read it already (``model_allowed_expression``)."""
    plan_id = plan_id or _user_plan_id(user)
    if preferred is not None and preferred.enabled:
        if allowed is None:
            allowed = _model_allowed_for(preferred, plan_id=plan_id)
        if allowed:
            return preferred
    return model_resolve(user=user, slug=None, plan_id=plan_id)


def model_for_or_none(*, user: User, preferred: LLMModel | None) -> LLMModel | None:
    """``model_for``, or None when no model is usable: for rows made without a request to refuse
    (a clone, a reply whose model was deleted). Sending, or the reply, then says what is wrong."""
    try:
        return model_for(user=user, preferred=preferred)
    except (ValidationError, DomainError):
        return None

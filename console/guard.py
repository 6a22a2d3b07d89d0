"""Staff who are not superusers never act on a superuser's account, nor on another staff member's,
on any admin path: only a superuser manages the accounts that hold admin powers (a staff member
with ``change_user`` could otherwise set the password of a colleague holding more permissions and
sign in as them). Their own account stays theirs to edit (its rights fields are read-only to them).

A row *belongs* to a user when it is deleted with them: a foreign key or one-to-one to the user
model with ``on_delete=CASCADE`` (the account's settings, devices, API keys, conversations,
allauth's social accounts and email addresses...), or such a key to a row that belongs to a user
(a message through its conversation, a social token through its social account). A row that only
names a user (``Sample.created_by``, ``SET_NULL``) does not belong to them.

For staff who are not superusers, a *protected* account (a superuser, or another staff member) and
every row that belongs to one are read-only:

- ``has_change_permission`` / ``has_delete_permission`` with the object answer no, so Django's
  own change form (shown read-only, 403 on POST), password form, delete page, inlines and unfold's
  object actions (which pass the object's id) all refuse;
- a user foreign key (or a key to a row that belongs to a user) offers and accepts no superuser,
  so no row is added to a superuser's account, nor moved onto it (linking one's own social account
  or verified address to a superuser is signing in as them);
- bulk actions leave a superuser's rows out, and say so;
- ``save_model`` / ``delete_model`` / ``delete_queryset`` check again (a list_editable save, an
  admin that overrides the above): the last line, 403.

``ConsoleAdminSite.register`` gives every registered admin this guard, the libraries' too; the
user import (``console/resources.py``) asks :func:`may_act_on` as well.
"""

from functools import cache, wraps

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy


class Refusal:
    """A refusal naming an action on an account (``what``, itself translated with the context "an
    action on an account": Korean reads it as a noun, "비활성화"), in the language of the request
    that reads it."""

    def __init__(self, sentence):
        self.sentence = sentence  # a lazy translation with a %(what)s

    def format(self, *, what) -> str:
        return str(self.sentence) % {"what": str(what)}


SUPERUSER_REFUSAL = Refusal(
    gettext_lazy("Only a superuser can %(what)s a superuser's or another staff member's account.")
)
# Steps followed from a row to the user it belongs to (a feedback's message's conversation's owner).
MAX_DEPTH = 3


def _owning(field) -> bool:
    """A forward foreign key or one-to-one whose target's deletion deletes this row."""
    return (
        field.concrete
        and (field.many_to_one or field.one_to_one)
        and field.remote_field is not None
        and field.remote_field.on_delete is models.CASCADE
    )


@cache
def owner_paths(model, depth: int = MAX_DEPTH) -> tuple[str, ...]:
    """Lookups from ``model`` to the users its rows belong to (``"user"``, ``"conversation__owner"``)."""
    user_model = get_user_model()
    paths: list[str] = []
    for field in model._meta.get_fields():
        if not _owning(field):
            continue
        target = field.related_model
        if target is user_model:
            paths.append(field.name)
        elif depth > 1 and target is not model:
            paths += [f"{field.name}__{rest}" for rest in owner_paths(target, depth - 1)]
    return tuple(paths)


def _protected_user(actor_pk) -> Q:
    """Accounts a non-superuser ``actor`` may not act on: superusers, and staff but themselves."""
    return Q(is_superuser=True) | (Q(is_staff=True) & ~Q(pk=actor_pk))


def protected_rows(model, actor) -> Q | None:
    """The rows of ``model`` that are, or belong to, an account protected from ``actor``; None if
    no row can."""
    accounts = _protected_user(getattr(actor, "pk", None))
    if model is get_user_model():
        return accounts
    query = None
    for path in owner_paths(model):
        term = Q(**{f"{path}__in": get_user_model()._default_manager.filter(accounts).values("pk")})
        query = term if query is None else query | term
    return query


def _is_protected(user, actor) -> bool:
    return bool(user.is_superuser) or (bool(user.is_staff) and user.pk != getattr(actor, "pk", None))


def belongs_to_protected(obj, actor) -> bool:
    """Whether ``obj`` (a saved or unsaved instance, as it is now in memory) is, or belongs to, an
    account protected from ``actor``."""
    if isinstance(obj, get_user_model()):
        return _is_protected(obj, actor)
    for path in owner_paths(type(obj)):
        target = obj
        for name in path.split("__"):
            target = getattr(target, name, None)  # RelatedObjectDoesNotExist is an AttributeError
            if target is None:
                break
        if target is not None and _is_protected(target, actor):
            return True
    return False


def stored_belongs_to_protected(model, pk, actor) -> bool:
    """The same question of the row as stored (not as a form may have changed it in memory)."""
    query = protected_rows(model, actor)
    if query is None or pk is None:
        return False
    try:
        return model._default_manager.filter(pk=pk).filter(query).exists()
    except (ValidationError, ValueError, TypeError):  # not a valid key: no such row
        return False


def may_act_on(actor, obj) -> bool:
    return bool(actor.is_superuser) or not belongs_to_protected(obj, actor)


class SuperuserGuard:
    """Mixed in first into every registered ModelAdmin (and, through ``get_inlines``, its inlines)."""

    def _may_act_on(self, request, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        if isinstance(obj, models.Model):
            return may_act_on(request.user, obj)
        # unfold's object actions pass the object's id, not the object: look the row up, once per
        # request and row (the change page asks for each of its buttons).
        cache_ = request.__dict__.setdefault("_superuser_guard", {})
        key = (self.model, str(obj))
        if key not in cache_:
            cache_[key] = not stored_belongs_to_protected(self.model, unquote(str(obj)), request.user)
        return cache_[key]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_act_on(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_act_on(request, obj)

    # --- which users and rows a form offers -----------------------------------------------------

    def _restrict(self, formfield, db_field, request):
        if formfield is None or request.user.is_superuser or not hasattr(formfield, "queryset"):
            return formfield
        if db_field.many_to_one or db_field.one_to_one:
            if not _owning(db_field):  # a row that only names a user (created_by) names anyone
                return formfield
        query = protected_rows(db_field.related_model, request.user)
        if query is not None:
            formfield.queryset = formfield.queryset.exclude(query)
        return formfield

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return self._restrict(super().formfield_for_foreignkey(db_field, request, **kwargs), db_field, request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return self._restrict(super().formfield_for_manytomany(db_field, request, **kwargs), db_field, request)

    # --- inlines, actions and the writes themselves ---------------------------------------------

    def get_inlines(self, request, obj):
        return [guarded_inline(inline) for inline in super().get_inlines(request, obj)]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if request.user.is_superuser or protected_rows(self.model, request.user) is None:
            return actions
        return {name: (_guarded_action(func), name, text) for name, (func, name, text) in actions.items()}

    def _refuse_write(self, request, obj, what: str) -> None:
        if request.user.is_superuser:
            return
        if belongs_to_protected(obj, request.user) or stored_belongs_to_protected(type(obj), obj.pk, request.user):
            raise PermissionDenied(SUPERUSER_REFUSAL.format(what=what))

    def save_model(self, request, obj, form, change):
        self._refuse_write(request, obj, pgettext_lazy("an action on an account", "change"))
        return super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        self._refuse_write(request, obj, pgettext_lazy("an action on an account", "delete"))
        return super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        query = protected_rows(queryset.model, request.user)
        if not request.user.is_superuser and query is not None and queryset.filter(query).exists():
            raise PermissionDenied(SUPERUSER_REFUSAL.format(what=pgettext_lazy("an action on an account", "delete")))
        return super().delete_queryset(request, queryset)


class InlineSuperuserGuard(SuperuserGuard):
    """For an inline, ``obj`` is the page's object (the parent): a superuser's page adds nothing."""

    def has_add_permission(self, request, obj):
        return super().has_add_permission(request, obj) and self._may_act_on(request, obj)


def _guarded_action(func):
    @wraps(func)
    def guarded(modeladmin, request, queryset):
        left_out = queryset.filter(protected_rows(modeladmin.model, request.user))
        count = left_out.count()
        if count:
            modeladmin.message_user(
                request,
                _(
                    "Only a superuser can act on a superuser's or another staff member's account: "
                    "%(count)d selected row(s) left out."
                )
                % {"count": count},
                messages.ERROR,
            )
            queryset = queryset.exclude(pk__in=left_out.values("pk"))
            if not queryset.exists():
                return None
        return func(modeladmin, request, queryset)

    return guarded


@cache
def guarded_admin(admin_class):
    """``admin_class`` with the guard first in its method order (itself if it has it already)."""
    if issubclass(admin_class, SuperuserGuard):
        return admin_class
    return type(admin_class.__name__, (SuperuserGuard, admin_class), {"__module__": admin_class.__module__})


@cache
def guarded_inline(inline_class):
    if issubclass(inline_class, SuperuserGuard):
        return inline_class
    return type(inline_class.__name__, (InlineSuperuserGuard, inline_class), {"__module__": inline_class.__module__})

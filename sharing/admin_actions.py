"""Admin actions other apps' admins use (the Conversation admin wires ``publish_as_sample``)."""

from django.contrib import admin, messages

from core.exceptions import Conflict

from .services import sample_create_from_conversation


@admin.action(description="Publish as sample")
def publish_as_sample(modeladmin, request, queryset):
    created = 0
    skipped = []
    for conversation in queryset.select_related("model"):
        try:
            sample_create_from_conversation(conversation=conversation, created_by=request.user, published=True)
        except Conflict:  # nothing finished to snapshot yet
            # A conversation with no finished message has nothing to show; say so, keep going.
            skipped.append(str(conversation))
        else:
            created += 1
    modeladmin.message_user(request, f"Published {created} conversation(s) as samples.", messages.SUCCESS)
    if skipped:
        modeladmin.message_user(
            request,
            "Skipped (no finished messages): " + ", ".join(skipped[:10]) + ("…" if len(skipped) > 10 else ""),
            messages.WARNING,
        )

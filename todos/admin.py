from django.contrib import admin, messages
from django.utils.translation import gettext_lazy, ngettext
from unfold.admin import ModelAdmin

from . import services
from .models import Todo


@admin.register(Todo)
class TodoAdmin(ModelAdmin):
    list_display = ("title", "owner", "todo_date", "complete", "completed_at", "created_at")
    list_filter = ("complete", "todo_date")
    search_fields = ("title", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("completed_at", "created_at", "updated_at")
    date_hierarchy = "todo_date"
    actions = ("mark_complete", "mark_incomplete")

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ("title", "description", "todo_date", "complete")}
        if change:
            # The form already applied its values to obj; re-apply through the service for completed_at.
            current = Todo.objects.get(pk=obj.pk)
            services.todo_update(todo=current, **fields)
            obj.refresh_from_db()
            return
        created = services.todo_create(user=form.cleaned_data["owner"], **fields)
        obj.pk = created.pk
        obj.refresh_from_db()

    @admin.action(description=gettext_lazy("Mark selected todos complete"))
    def mark_complete(self, request, queryset):
        count = services.todos_set_complete(todos=queryset, complete=True)
        self.message_user(
            request,
            ngettext("%(count)d todo marked complete.", "%(count)d todos marked complete.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Mark selected todos incomplete"))
    def mark_incomplete(self, request, queryset):
        count = services.todos_set_complete(todos=queryset, complete=False)
        self.message_user(
            request,
            ngettext("%(count)d todo marked incomplete.", "%(count)d todos marked incomplete.", count)
            % {"count": count},
            messages.SUCCESS,
        )

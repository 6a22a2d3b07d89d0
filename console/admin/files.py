"""The console's admin of stored files: the files app's list, with "Extract again" (written to
the audit trail)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy, ngettext

from files import services
from files.admin import StoredFileAdmin
from files.models import StoredFile

from ..audit import record_staff_action

admin.site.unregister(StoredFile)


@admin.register(StoredFile)
class ConsoleStoredFileAdmin(StoredFileAdmin):
    actions = ("extract_again",)

    @admin.action(description=gettext_lazy("Extract the text of the selected files again"))
    def extract_again(self, request, queryset):
        queued = 0
        for stored in queryset.exclude(content_type__startswith="image/"):
            before = stored.status
            services.file_extract_again(file=stored)
            record_staff_action([stored], action="extract again", changes={"status": [before, "processing"]})
            queued += 1
        self.message_user(
            request,
            ngettext("Queued %(count)d file to be read again.", "Queued %(count)d files to be read again.", queued)
            % {"count": queued},
            messages.SUCCESS,
        )

"""The staff usage dashboard, a page of the Django admin (``/admin/usage/``)."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils import timezone

from .usage import DEFAULT_WINDOW_DAYS, WINDOW_CHOICES, usage_dashboard_data


def _parse_days(raw: str | None) -> int | None:
    """The window in days, or None when the value is not one of the offered choices."""
    if raw is None or raw == "":
        return DEFAULT_WINDOW_DAYS
    try:
        days = int(raw)
    except ValueError:
        return None
    return days if days in WINDOW_CHOICES else None


def usage_dashboard(request):
    days = _parse_days(request.GET.get("days"))
    context = {
        **admin.site.each_context(request),
        "title": "Usage dashboard",
        "window_choices": WINDOW_CHOICES,
        "time_zone": timezone.get_current_timezone_name(),
    }
    if days is None:
        # A 400 that names the problem rather than silently showing another window than asked.
        context["days_error"] = (
            f"“days” must be one of {', '.join(str(choice) for choice in WINDOW_CHOICES)}; "
            f"got “{request.GET.get('days')[:20]}”."
        )
        return TemplateResponse(request, "admin/usage_dashboard.html", context, status=400)
    context.update(usage_dashboard_data(days=days))
    context["days"] = days
    return TemplateResponse(request, "admin/usage_dashboard.html", context)


# admin_view: staff only (others go to the admin login), never cached, CSRF-protected.
usage_dashboard_view = admin.site.admin_view(usage_dashboard)


def admin_home_context(request, context):
    """``UNFOLD["DASHBOARD_CALLBACK"]``: what the admin home shows."""
    return context

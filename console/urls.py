"""The console's URLs, under /admin/: the usage dashboard, then the admin itself (whose last
pattern catches every other path)."""

from django.contrib import admin
from django.urls import path

from .dashboard import usage_dashboard

urlpatterns = [
    # admin_view: staff only (others go to the admin login), never cached, CSRF-protected.
    path("usage/", admin.site.admin_view(usage_dashboard), name="admin-usage"),
    path("", admin.site.urls),
]

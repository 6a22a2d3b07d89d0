"""Human (non-API) pages of the sharing app, e.g. /share/{id}/."""

urlpatterns: list = []

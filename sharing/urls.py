"""Human (non-API) pages of the sharing app, e.g. /share/{id}/."""

from django.urls import path

from . import views

urlpatterns = [
    path("share/<str:share_id>/", views.share_detail, name="share-page"),
    path("share/<str:share_id>/continue/", views.share_continue, name="share-continue"),
]

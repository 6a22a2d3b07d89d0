from django.urls import path

from . import views

urlpatterns = [
    path("shares", views.ShareListView.as_view(), name="shares"),
    path("shares/<str:share_id>", views.ShareDetailView.as_view(), name="share-detail"),
    path("shares/<str:share_id>/clone", views.ShareCloneView.as_view(), name="share-clone"),
    path("samples", views.SampleListView.as_view(), name="samples"),
    path("samples/<uuid:sample_id>", views.SampleDetailView.as_view(), name="sample-detail"),
    path("samples/<uuid:sample_id>/clone", views.SampleCloneView.as_view(), name="sample-clone"),
]

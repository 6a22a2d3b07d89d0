from django.urls import path

from . import views

urlpatterns = [
    path("collector/items", views.ItemListView.as_view(), name="collector-items"),
    path("collector/items/<int:pk>", views.ItemDetailView.as_view(), name="collector-item-detail"),
    path("collector/items/<int:pk>/file", views.ItemFileView.as_view(), name="collector-item-file"),
    path("collector/tags", views.TagListView.as_view(), name="collector-tags"),
    path(
        "conversations/<uuid:pk>/context-items",
        views.ConversationContextItemsView.as_view(),
        name="conversation-context-items",
    ),
]

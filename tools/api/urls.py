from django.urls import path

from . import views

urlpatterns = [path("tools", views.ToolListView.as_view(), name="tools")]

from django.urls import path

from ..social import SocialExchangeView
from . import views

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/social/exchange", SocialExchangeView.as_view(), name="auth-social-exchange"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/devices", views.DeviceListView.as_view(), name="auth-devices"),
    path("auth/devices/<uuid:pk>", views.DeviceDetailView.as_view(), name="auth-device-detail"),
    path("auth/password/change", views.PasswordChangeView.as_view(), name="auth-password-change"),
    path("plans", views.PlanListView.as_view(), name="plans"),
    path("user", views.ProfileView.as_view(), name="user"),
    path("user/settings", views.UserSettingsView.as_view(), name="user-settings"),
    path("user/settings/subscription", views.SubscriptionView.as_view(), name="user-settings-subscription"),
    path("user/settings/theme", views.ThemeView.as_view(), name="user-settings-theme"),
    path("user/settings/notification", views.NotificationView.as_view(), name="user-settings-notification"),
    path("users/<int:user_id>/settings", views.StaffUserSettingsView.as_view(), name="staff-user-settings"),
    path(
        "users/<int:user_id>/settings/subscription",
        views.StaffSubscriptionView.as_view(),
        name="staff-user-settings-subscription",
    ),
]

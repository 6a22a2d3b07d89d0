from django.urls import path

from core.viewsets import api_router

from ..social.exchange import SocialExchangeView
from . import views, viewsets

router = api_router()
router.register("auth/devices", viewsets.DeviceViewSet, basename="auth-device")
router.register("plans", viewsets.PlanViewSet, basename="plan")
router.register("api-keys", viewsets.ApiKeyViewSet, basename="api-key")

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/social/exchange", SocialExchangeView.as_view(), name="auth-social-exchange"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/password-rules", views.PasswordRulesView.as_view(), name="auth-password-rules"),
    path("auth/password/change", views.PasswordChangeView.as_view(), name="auth-password-change"),
    path("user", views.ProfileView.as_view(), name="user"),
    path("user/settings", views.UserSettingsView.as_view(), name="user-settings"),
    path("user/settings/theme", views.ThemeView.as_view(), name="user-settings-theme"),
    path("user/settings/notification", views.NotificationView.as_view(), name="user-settings-notification"),
    path("users/<int:user_id>/settings", views.StaffUserSettingsView.as_view(), name="staff-user-settings"),
    *router.urls,
]

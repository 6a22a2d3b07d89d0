"""The callback of a provider that is not configured is simply not found (it answered 500)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("provider", ["google", "github", "kakao", "naver"])
@pytest.mark.parametrize("query", ["", "?code=abc&state=xyz", "?error=access_denied&state=xyz"])
def test_an_unconfigured_providers_callback_is_a_404(settings, provider, query):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    response = Client(raise_request_exception=False).get(f"/accounts/{provider}/login/callback/{query}")
    assert response.status_code == 404

"""``GET /_allauth/app/v1/config``, listing every configured provider with the flows it has."""

from __future__ import annotations

import json

from allauth.socialaccount.adapter import get_adapter as get_socialaccount_adapter

from .allauth_internals import APIResponse, ConfigResponse, ConfigView, Flow


class AppConfigView(ConfigView):
    """allauth lists only token-capable providers to app clients, because its redirect flow is
    browser-only; ``provider_callback.social_callback`` makes the redirect flow work for our app
    client, so every provider is listed with the flows it has."""

    def get(self, request, *args, **kwargs):
        response = ConfigResponse(request)
        body = json.loads(response.content)
        providers = sorted(get_socialaccount_adapter().list_providers(request), key=lambda p: p.name)
        body["data"]["socialaccount"] = {"providers": [provider_entry(p) for p in providers]}
        return APIResponse(request, data=body["data"], meta=body.get("meta"), status=response.status_code)


def provider_entry(provider) -> dict:
    flows = [Flow.PROVIDER_REDIRECT] if provider.supports_redirect else []
    if provider.supports_token_authentication:
        flows.append(Flow.PROVIDER_TOKEN)
    return {"id": provider.sub_id, "name": provider.name, "flows": flows, "client_id": provider.app.client_id}

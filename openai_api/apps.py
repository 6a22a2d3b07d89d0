from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class OpenaiApiConfig(AppConfig):
    name = "openai_api"
    verbose_name = gettext_lazy("OpenAI-compatible API")

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled

        from .cors import api_origin_allowed

        check_request_enabled.connect(api_origin_allowed, dispatch_uid="openai_api_cors")

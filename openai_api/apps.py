from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class OpenaiApiConfig(AppConfig):
    name = "openai_api"
    verbose_name = gettext_lazy("OpenAI-compatible API")

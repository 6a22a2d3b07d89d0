"""Refuse JSON bodies nested deeper than any client of this API needs, before anything parses them.

Python's json module raises RecursionError (not ValueError) at about 1,000 levels, which every
parser here (DRF's, allauth's headless views) turned into a 500. Counting brackets outside strings
is linear and cheap, and one middleware covers every JSON endpoint, signed in or not.

Which bodies are checked is not decided by the Content-Type a client claims: media types are
case-insensitive (``Application/JSON`` is JSON), and allauth's headless views parse any body as
JSON whatever it is labelled (``text/plain`` included). So every body is checked except the two
form encodings, which no JSON parser here reads; bodies are small by then (``config/body_limits``
refuses large ones before they are read).
"""

import re

from django.http import JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

MAX_JSON_DEPTH = 64
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_TOKENS = re.compile(rb'\\.|"|[\[\]{}]', re.DOTALL)


def json_depth(body: bytes) -> int:
    depth = deepest = 0
    in_string = False
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token == b'"':
            in_string = not in_string
        elif in_string or token[:1] == b"\\":
            continue
        elif token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class JsonDepthLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        content_type = request.META.get("CONTENT_TYPE", "").strip().lower()
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and not content_type.startswith(_FORM_TYPES):
            if json_depth(request.body) > MAX_JSON_DEPTH:
                # Before LocaleMiddleware and authentication: the browser's language.
                with translation.override(translation.get_language_from_request(request)):
                    detail = _("JSON is nested more than %(depth)d levels deep.") % {"depth": MAX_JSON_DEPTH}
                return JsonResponse({"detail": detail, "code": "parse_error"}, status=400)
        return self.get_response(request)

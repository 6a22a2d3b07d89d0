"""Refuse JSON bodies nested deeper than any client of this API needs, before anything parses them.

Python's json module raises RecursionError (not ValueError) at about 1,000 levels, which every
parser here (DRF's, allauth's headless views) turned into a 500. Counting brackets outside strings
is linear and cheap, and one middleware covers every JSON endpoint, signed in or not.
"""

import re

from django.http import JsonResponse

MAX_JSON_DEPTH = 64
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
        content_type = request.META.get("CONTENT_TYPE", "")
        if "json" in content_type and request.method in ("POST", "PUT", "PATCH", "DELETE"):
            if json_depth(request.body) > MAX_JSON_DEPTH:
                return JsonResponse(
                    {"detail": f"JSON is nested more than {MAX_JSON_DEPTH} levels deep.", "code": "parse_error"},
                    status=400,
                )
        return self.get_response(request)

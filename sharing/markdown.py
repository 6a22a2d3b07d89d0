"""Markdown for the public share page: raw HTML off at parse time, then sanitised with nh3.

Two layers on purpose: markdown-it never passes raw HTML through, and nh3 strips whatever a
renderer quirk might still let through (unknown tags, event handlers, non-http(s)/mailto URLs).
The page's Content-Security-Policy forbids scripts as a third layer.

Images in a reply are shown as links to them, never loaded: a remote image would tell its host
the address of every reader of the share (the web client drops them for the same reason), and
the page's CSP allows images from this origin only.
"""

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"


def _image_as_link(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    alt = "".join(child.content for child in token.children or ()) or token.attrGet("src") or "image"
    return f'<a href="{escape(token.attrGet("src") or "")}">{escape(alt)}</a>'


_md.add_render_rule("image", _image_as_link)


def render_markdown(text: str) -> SafeString:
    html = _md.render(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel=LINK_REL,
        filter_style_properties={"text-align"},
        strip_comments=True,
    )
    return mark_safe(clean)  # noqa: S308 -- sanitised by nh3 just above

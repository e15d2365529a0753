from __future__ import annotations

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def marked(pieces: list[tuple[str, bool]]) -> SafeString:
    """Snippet pieces as HTML: every piece escaped, matches wrapped in <mark>."""
    return format_html_join("", "{}", ((_piece(text, hit),) for text, hit in pieces or []))


def _piece(text: str, hit: bool) -> SafeString:
    from django.utils.html import format_html

    return format_html("<mark>{}</mark>", text) if hit else format_html("{}", text)

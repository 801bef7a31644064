"""Template filters for rendering LLM summaries in Django templates."""
from __future__ import annotations

import markdown as md
import nh3
from django import template
from django.template.defaultfilters import stringfilter
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

ALLOWED_TAGS = {"p", "ul", "ol", "li", "em", "strong", "code", "pre", "blockquote"}


@register.filter(is_safe=True)
@stringfilter
def summary_markdown(value: str) -> SafeString:
    """{{ article.summary|summary_markdown }} — summaries are LLM-generated markdown."""
    return mark_safe(md.markdown(value, extensions=["fenced_code"]))


@register.filter(is_safe=True)
@stringfilter
def summary_markdown_clean(value: str) -> SafeString:
    html = md.markdown(value, extensions=["fenced_code"])
    return mark_safe(nh3.clean(html, tags=ALLOWED_TAGS))


@register.simple_tag
def summary_badge(article) -> SafeString:
    return format_html("<span class='badge' title='{}'>AI summary</span>", article.summary or "")


@register.filter
def highlight(value: str, term: str) -> SafeString:
    escaped = conditional_escape(value)
    return mark_safe(escaped.replace(conditional_escape(term), f"<mark>{conditional_escape(term)}</mark>"))

"""Django views for the article summariser."""
from __future__ import annotations

import bleach
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from .llm import summarise_article, suggest_tags
from .models import Article

ALLOWED = ["p", "ul", "li", "strong", "em", "blockquote"]


@login_required
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk)
    if not article.summary:
        article.summary = summarise_article(article.body)
        article.save(update_fields=["summary"])
    summary_html = mark_safe(article.summary)
    return render(request, "articles/detail.html", {"article": article, "summary": summary_html})


@login_required
def article_card(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk)
    cleaned = bleach.clean(article.summary or "", tags=ALLOWED, strip=True)
    return HttpResponse(format_html("<div class='card'><h2>{}</h2>{}</div>", article.title, mark_safe(cleaned)))


@login_required
def tags(request: HttpRequest, pk: int) -> JsonResponse:
    article = get_object_or_404(Article, pk=pk)
    return JsonResponse({"tags": suggest_tags(article.body)})


@login_required
def tag_badges(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk)
    badges = "".join(f"<span class='badge'>{escape(t)}</span>" for t in suggest_tags(article.body))
    return HttpResponse(mark_safe(badges))


def preview(request: HttpRequest) -> HttpResponse:
    text = request.POST.get("text", "")
    summary = summarise_article(text)
    return HttpResponse(f"<section class='preview'>{summary}</section>")

"""Django views for the internal eval dashboard."""
from __future__ import annotations

import json

import bleach
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from openai import OpenAI

from .models import EvalRun

client = OpenAI()


def _summarise(run: EvalRun) -> str:
    resp = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"Summarise these eval results as HTML bullet points: {run.metrics_json}"}],
    )
    return resp.choices[0].message.content


def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(EvalRun, pk=run_id)
    summary = _summarise(run)
    return render(request, "runs/detail.html", {
        "run": run,
        "summary": mark_safe(summary),  #@ llm-output-xss: LLM-written HTML marked safe for the Django template
        "metrics": json.loads(run.metrics_json),
    })


def run_card(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(EvalRun, pk=run_id)
    summary = _summarise(run)
    cleaned = bleach.clean(summary, tags={"ul", "li", "b", "code"}, strip=True)
    return render(request, "runs/card.html", {
        "title": format_html("<b>{}</b>", run.name),  #@ safe: format_html escapes
        "summary": mark_safe(cleaned),  #@ safe: bleach-sanitised before mark_safe
    })

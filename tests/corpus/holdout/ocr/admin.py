"""Internal admin panel for the document-AI team (template tweaking, spot checks)."""
from __future__ import annotations

import os

from flask import Flask, abort, render_template_string, request
from openai import OpenAI

from ocr.storage import cached_pages

app = Flask(__name__)
app.secret_key = os.environ["ADMIN_SECRET_KEY"]
client = OpenAI()

EMAIL_PROMPT = "Write a short Jinja2 HTML template for an email telling {customer} their invoice was processed."


@app.get("/pages/<path:cache>")
def pages(cache: str):
    if not cache.startswith("tenant-"):
        abort(400)
    return {"n": len(cached_pages(f"/var/cache/docai/{cache}"))}


@app.get("/email-preview")
def email_preview():
    customer = request.args.get("customer", "ACME GmbH")
    tmpl = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": EMAIL_PROMPT.format(customer=customer)}],
    ).choices[0].message.content
    return render_template_string(tmpl, customer=customer)


@app.get("/summary-preview")
def summary_preview():
    summary = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Summarise today's OCR failures."}],
    ).choices[0].message.content
    return render_template_string("<article>{{ s }}</article>", s=summary)


if __name__ == "__main__":
    app.run(port=5050, debug=True)

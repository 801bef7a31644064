"""Small Flask app that renders agent run reports for the team."""
from __future__ import annotations

import os
from datetime import datetime

from flask import Flask, abort, jsonify, render_template, render_template_string, request
from jinja2 import Environment
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from agentsmith.planner import Planner

app = Flask(__name__)
DEBUG = True

REPORTS: dict[str, dict] = {}

PAGE = """<!doctype html><title>{{ title }}</title>
<h1>{{ title }}</h1><div class="report">{{ body }}</div>"""


@app.post("/reports")
def create_report():
    task = request.json["task"]
    planner = Planner()
    plan = planner.execute(planner.plan(task))
    body = "\n".join(f"<li>{s.kind}: {s.result}</li>" for s in plan.steps)
    rid = datetime.utcnow().strftime("%Y%m%d%H%M%S")
    REPORTS[rid] = {"task": task, "body": body}
    return jsonify({"id": rid})


@app.get("/reports/<rid>")
def show_report(rid: str):
    rep = REPORTS.get(rid) or abort(404)
    return render_template_string(PAGE, title=rep["task"], body=Markup(rep["body"]))  #@ xss: Markup() of LLM step results rendered as HTML


@app.get("/reports/<rid>/custom")
def custom_layout(rid: str):
    """Let the model design the page layout (experimental)."""
    rep = REPORTS.get(rid) or abort(404)
    layout = Planner()._ask(f"Write a Jinja2 HTML template showing this report: {rep['body']}")
    return render_template_string(layout, report=rep)  #@ exec: LLM-written Jinja template rendered (SSTI)


@app.get("/reports/<rid>/title")
def title_banner(rid: str):
    rep = REPORTS.get(rid) or abort(404)
    banner = Planner()._ask(f"Write a one-line Jinja2 banner for: {rep['task']}")
    tpl = Environment().from_string(banner)  #@ exec: Environment().from_string on LLM text (SSTI)
    return tpl.render(now=datetime.utcnow())


@app.get("/reports/<rid>/sandboxed")
def sandboxed(rid: str):
    rep = REPORTS.get(rid) or abort(404)
    layout = Planner()._ask(f"Write a Jinja2 template for: {rep['task']}")
    return SandboxedEnvironment(autoescape=True).from_string(layout).render(report=rep)  #@ safe: SandboxedEnvironment


@app.get("/")
def home():
    return render_template("index.html", reports=sorted(REPORTS))


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", 5050)), debug=DEBUG)  #@ debug: Flask debug=True via module constant

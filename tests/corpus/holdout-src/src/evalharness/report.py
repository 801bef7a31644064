"""Render a static HTML report of a run for sharing in Slack / Confluence."""
from __future__ import annotations

import argparse
import html
import json
from collections import Counter
from pathlib import Path

import jinja2
from markupsafe import Markup

REPORT_TMPL = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body>
<h1>{{ title }}</h1>
<p>{{ summary }}</p>
<table>
{% for r in rows %}<tr class="{{ r.status }}"><td>{{ r.prompt }}</td><td>{{ r.generation }}</td><td>{{ r.status }}</td></tr>
{% endfor %}
</table>
</body></html>
"""

env = jinja2.Environment(  #@ llm-output-xss: report environment with autoescape disabled renders raw model generations into HTML
    loader=jinja2.DictLoader({"report.html": REPORT_TMPL}),
    autoescape=False,
    trim_blocks=True,
)
safe_env = jinja2.Environment(loader=jinja2.DictLoader({"report.html": REPORT_TMPL}), autoescape=True)  #@ safe: autoescape=True


def load_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def render(rows: list[dict], title: str, escape: bool = True) -> str:
    counts = Counter(r["status"] for r in rows)
    summary = ", ".join(f"{k}: {v}" for k, v in counts.most_common())
    e = safe_env if escape else env
    return e.get_template("report.html").render(title=title, summary=summary, rows=rows)


def highlight_failure(row: dict) -> Markup:
    """Inline snippet for the Confluence macro."""
    return Markup(f"<pre class='gen'>{row['generation']}</pre>")  #@ llm-output-xss: raw model generation wrapped in Markup


def highlight_failure_escaped(row: dict) -> Markup:
    return Markup("<pre class='gen'>{}</pre>").format(row["generation"])  #@ safe: Markup.format escapes its arguments


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    ap.add_argument("--raw", action="store_true", help="do not escape generations (keeps code formatting)")
    args = ap.parse_args()
    rows = load_rows(args.run)
    out = args.run.with_suffix(".html")
    out.write_text(render(rows, html.escape(args.run.stem), escape=not args.raw))
    print(out)


if __name__ == "__main__":
    main()

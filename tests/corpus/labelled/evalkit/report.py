"""HTML report for an evaluation run."""
from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

TEMPLATE_DIR = Path(__file__).parent / "templates"
env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape())
strict_env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=True)

LOGO = Markup("<svg width='16' height='16'><circle cx='8' cy='8' r='7'/></svg>")


def samples_table(df: pd.DataFrame, n: int = 50) -> Markup:
    rows = []
    for r in df.head(n).itertuples():
        rows.append(
            f"<tr><td>{html.escape(r.question)}</td><td>{html.escape(r.answer)}</td><td>{r.score}</td></tr>"
        )
    return Markup("<table>" + "".join(rows) + "</table>")


def render(run_name: str, df: pd.DataFrame, out: Path) -> Path:
    tpl = env.get_template("report.html")
    out.write_text(
        tpl.render(
            run=run_name,
            logo=LOGO,
            summary=df["score"].describe().to_dict(),
            samples=samples_table(df),
            worst=df.nsmallest(10, "score").to_dict(orient="records"),
        )
    )
    return out

"""Turns the model's markdown answer into HTML for the web widget."""

import markdown
from markupsafe import Markup


def render_answer(text: str) -> Markup:
    # The widget shows the answer as-is; the model is told to produce markdown only.
    return Markup(markdown.markdown(text))

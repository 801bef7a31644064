"""Strips HTML and scripts from articles before chunking (content sanitisation)."""

import nh3


def clean(article: dict) -> dict:
    return {**article, "body": nh3.clean(article["body"], tags={"p", "ul", "ol", "li", "code", "pre"})}

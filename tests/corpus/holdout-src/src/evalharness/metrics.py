"""Scoring functions for generated answers."""
from __future__ import annotations

import ast
import math
import operator
import re
from collections import Counter

ANSWER_RE = re.compile(r"(?:####|answer is)\s*([^\n]+)", re.I)
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: operator.pow, ast.USub: operator.neg}


def _final_expression(generation: str) -> str:
    m = ANSWER_RE.search(generation)
    return (m.group(1) if m else generation.strip().splitlines()[-1]).replace(",", "").rstrip(".")


def _safe_arith(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _safe_arith(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_safe_arith(node.left), _safe_arith(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_safe_arith(node.operand))
    raise ValueError("unsupported expression")


def score_math(generation: str, reference: str) -> str:
    """GSM8K-style: the model may answer with an arithmetic expression (e.g. '12*4+3')."""
    expr = _final_expression(generation)
    try:
        pred = float(eval(expr))  #@ llm-output-exec: eval of the model's final answer (generation comes from evalharness/runner.py, cross-file)
    except Exception:  # noqa: BLE001
        return "unparseable"
    gold = float(_final_expression(reference))
    return "correct" if math.isclose(pred, gold, rel_tol=1e-6) else "wrong"


def score_math_strict(generation: str, reference: str) -> str:
    expr = _final_expression(generation)
    try:
        pred = _safe_arith(ast.parse(expr, mode="eval"))  #@ safe: AST-walking arithmetic evaluator
    except (SyntaxError, ValueError, ZeroDivisionError):
        return "unparseable"
    return "correct" if math.isclose(pred, float(_final_expression(reference)), rel_tol=1e-6) else "wrong"


def parse_choice_list(generation: str) -> list[str]:
    return list(ast.literal_eval(generation.strip()))  #@ safe: literal_eval


def exact_match(pred: str, gold: str) -> float:
    norm = lambda s: re.sub(r"\s+", " ", s.strip().lower())  # noqa: E731
    return float(norm(pred) == norm(gold))


def f1(pred: str, gold: str) -> float:
    p, g = pred.lower().split(), gold.lower().split()
    common = Counter(p) & Counter(g)
    same = sum(common.values())
    if same == 0:
        return 0.0
    prec, rec = same / len(p), same / len(g)
    return 2 * prec * rec / (prec + rec)

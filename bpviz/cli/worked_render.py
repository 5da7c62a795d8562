"""Writing a worked example (``bpviz.cli.worked_example``) as Markdown, LaTeX or JSON.

Every step is three lines: the paper's equation, the same equation with the numbers
substituted, its value. Matrices are written as in the paper, one column per example
(the engine keeps one row per example: they are transposed here, nothing else). Numbers
are printed with ``DIGITS`` significant digits (``number``); ``parse_numbers`` reads
them back, so tests can compare a document with the engine's traces.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

DIGITS = 6  # significant digits of every printed number
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:\\times 10\^\{(-?\d+)\})?")


@dataclass(frozen=True)
class Step:
    """One line of the algorithm.

    ``key``: x, y, W, b, z, a, cost, dC_da, sigma_prime, delta, grad_W, grad_b,
    W_after, b_after; ``layer``: the paper's l (0 for x and y, L for the cost);
    ``equation``: LaTeX of the paper's equation (``lhs & = rhs``, aligned at ``&``);
    ``substituted``: LaTeX of its right side with the operands' numbers (empty for
    given values); ``value``: the engine's float64 result, in the paper's layout
    (``(n_l, m)`` for per-example vectors, ``(n_l, n_{l-1})`` for W, ``(n_l, 1)`` for b
    and ∂C/∂b, ``()`` for C).
    """

    key: str
    layer: int
    title: str
    equation: str
    substituted: str
    value: np.ndarray


def number(value: float) -> str:
    """``value`` with ``DIGITS`` significant digits: ``0.123457``, ``-1.5``,
    ``2.5\\times 10^{-7}``."""
    text = f"{float(value):.{DIGITS}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return text


def parse_numbers(latex: str) -> list[float]:
    """The numbers ``number`` wrote into ``latex`` (a value line), in order."""
    values = []
    for match in _NUMBER.finditer(latex):
        mantissa = match.group(0).split(r"\times")[0]
        scale = 10.0 ** int(match.group(1)) if match.group(1) else 1.0
        values.append(float(mantissa) * scale)
    return values


def matrix(value: np.ndarray) -> str:
    """A bmatrix of ``value`` (a scalar for shape ``()``)."""
    value = np.asarray(value, dtype=np.float64)
    if value.ndim == 0:
        return number(value)
    rows = value.reshape(value.shape[0], -1)
    body = r" \\ ".join(" & ".join(number(v) for v in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def _lines(step: Step) -> list[str]:
    """The step's aligned lines: equation, substitution, value (a given value: one line)."""
    if not step.substituted:
        return [f"{step.equation} & = {matrix(step.value)}"]
    return [step.equation, f"& = {step.substituted}", f"& = {matrix(step.value)}"]


def value_line(step: Step) -> str:
    """The last line of a step as written (for tests that read documents back)."""
    return _lines(step)[-1]


def to_markdown(header: dict, steps: list[Step]) -> str:
    """A Markdown document GitHub renders: one ```` ```math ```` block per step."""
    out = [f"# {header['title']}", "", *header["intro"], ""]
    section = None
    for step in steps:
        if header["sections"][step.key] != section:
            section = header["sections"][step.key]
            out += [f"## {section}", ""]
        out += [f"**{step.title}**", "", "```math", r"\begin{aligned}"]
        lines = _lines(step)
        out += [line + (r" \\" if k < len(lines) - 1 else "") for k, line in enumerate(lines)]
        out += [r"\end{aligned}", "```", ""]
    return "\n".join(out)


_TEX_ESCAPES = {"&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#"}
_TEX_MATH = {"η": r"\eta", "δ": r"\delta", "σ": r"\sigma", "∂": r"\partial", "⊙": r"\odot",
             "⊘": r"\oslash", "′": "'", "ˡ": "^{l}", "ᴸ": "^{L}"}  # fmt: skip
_TEX_MATH.update({sup: f"^{{{d}}}" for d, sup in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")})


def _tex_text(text: str) -> str:
    """Plain text for LaTeX: special characters escaped, Markdown code ticks and the
    Unicode math of the intro turned into LaTeX."""
    text = re.sub(r"`([^`]*)`", r"\\texttt{\1}", text)
    text = re.sub(r"\$([^$]*)\$", lambda m: "\0" + m.group(1) + "\0", text)
    parts = text.split("\0")
    for k in range(0, len(parts), 2):  # outside $…$
        for char, repl in _TEX_ESCAPES.items():
            parts[k] = parts[k].replace(char, repl)
        for char, repl in _TEX_MATH.items():
            parts[k] = parts[k].replace(char, f"${repl}$")
        parts[k] = parts[k].replace("**", "")
    return "".join(p if k % 2 == 0 else f"${p}$" for k, p in enumerate(parts))


def to_latex(header: dict, steps: list[Step]) -> str:
    """A standalone LaTeX document (article + amsmath): one ``align*`` per step."""
    out = [
        r"\documentclass{article}",
        r"\usepackage[utf8]{inputenc}",
        r"\usepackage{amsmath}",
        r"\setcounter{MaxMatrixCols}{20}",
        r"\begin{document}",
        rf"\section*{{{_tex_text(header['title'])}}}",
    ]
    out += [_tex_text(line) + "\n" for line in header["intro"] if line]
    section = None
    for step in steps:
        if header["sections"][step.key] != section:
            section = header["sections"][step.key]
            out.append(rf"\subsection*{{{_tex_text(section)}}}")
        out.append(rf"\noindent\textbf{{{_tex_text(step.title)}}}")
        out.append(r"\begin{align*}")
        lines = _lines(step)
        out += [line + (r" \\" if k < len(lines) - 1 else "") for k, line in enumerate(lines)]
        out.append(r"\end{align*}")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def to_json(header: dict, steps: list[Step]) -> str:
    """The same numbers for programs: exact float64 values (JSON floats round-trip)."""
    return json.dumps(
        {
            **header["meta"],
            "significant_digits_printed": DIGITS,
            "layout": "paper: one column per example; W^l is (n_l, n_{l-1}); b^l (n_l, 1)",
            "steps": [
                {
                    "key": s.key,
                    "layer": s.layer,
                    "title": s.title,
                    "equation": s.equation,
                    "substituted": s.substituted,
                    "shape": list(np.shape(s.value)),
                    "value": np.asarray(s.value, dtype=np.float64).tolist(),
                }
                for s in steps
            ],
        },
        indent=1,
    )

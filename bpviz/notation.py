"""The window's one notation: Unicode super- and subscripts (δ¹, aᴸ, Wˡ, w₃,₅²), 123,748.

Text the window shows is typeset (the equation panel) or Unicode, never caret text
(``δ^1``, ``W^{l+1}``, ``w_3,5^2``). Labels built elsewhere in caret form (the session's
``Phase.label``, ``Selection.label``, which files and the CLI keep) pass through
``unicode_math`` on their way to the screen. No Qt here: it sits below both the window
(``bpviz.ui``) and the command lines (``bpviz.cli``), which print the same notation.

One subscript style: indices are separated by a comma, ``w₃,₅²`` (never ``w₃₅²``).
"""

from __future__ import annotations

import re

_SUPER = dict(
    zip(
        "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ",
        strict=True,
    )
)
_SUB = dict(
    zip("0123456789+-−=()aehijklmnoprstuvx,", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ,", strict=True)
)
# ^ then a {group}, a number or one letter; _ then a {group}, numbers joined by commas
# ("3,7") or a run of letters ("ij")
_CARET = re.compile(r"([_^])(\{[^{}]*\}|\d+(?:,\d+)*|[A-Za-z]+)")


def _convert(text: str | int, table: dict[str, str], kind: str) -> str:
    out = [table.get(ch) for ch in str(text).replace(" ", "")]
    if None in out:
        raise ValueError(f"no Unicode {kind} for {text!r}")
    return "".join(out)


def superscript(text: str | int) -> str:
    """``superscript(12) == "¹²"``, ``superscript("l+1") == "ˡ⁺¹"``; characters without a
    Unicode superscript (q, C, F, …) raise ValueError."""
    return _convert(text, _SUPER, "superscript")


def subscript(text: str | int) -> str:
    """``subscript("3,7") == "₃,₇"``, ``subscript("ij") == "ᵢⱼ"``; characters without a
    Unicode subscript (capitals, b, c, …) raise ValueError."""
    return _convert(text, _SUB, "subscript")


def unicode_math(text: str) -> str:
    """Caret text to Unicode: ``"δ^2"`` → ``"δ²"``, ``"∂C/∂W^{l+1}"`` → ``"∂C/∂Wˡ⁺¹"``,
    ``"w_3,7^2"`` → ``"w₃,₇²"``, ``"(a^{l-1})^T"`` → ``"(aˡ⁻¹)ᵀ"``.

    A ``^`` takes a {group}, a number or ONE letter (``a^Lx`` is aᴸx); ``_`` takes a
    {group}, numbers joined by commas or a run of letters. A group that has no Unicode
    form is left as it was (so a test scanning the window for ``^`` / ``_{`` finds it).
    """

    def replace(match: re.Match[str]) -> str:
        mark, body = match.groups()
        group = body[1:-1] if body.startswith("{") else body
        if mark == "^" and not body.startswith("{") and not body.isdigit():
            group, rest = body[0], body[1:]
        else:
            rest = ""
        try:
            return (superscript if mark == "^" else subscript)(group) + rest
        except ValueError:  # no Unicode form: leave it as written
            return match.group(0)

    return _CARET.sub(replace, text)


def number(value: int) -> str:
    """A count as the window writes it: ``number(123748) == "123,748"``."""
    return f"{int(value):,}"

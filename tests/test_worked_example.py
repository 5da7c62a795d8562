"""``python -m bpviz worked-example``: every number is the engine's, in md, tex and json."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bpviz.cli.worked_example import main
from bpviz.cli.worked_render import DIGITS, parse_numbers
from bpviz.data.toy import make_toy
from bpviz.engine import Network
from bpviz.session.config import epoch_order

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, fmt: str, *flags: str) -> str:
    out = tmp_path / f"worked.{fmt}"
    assert main(["--format", fmt, "--out", str(out), *flags]) == 0
    return out.read_text(encoding="utf-8")


def traces(data="xor", sizes=(2, 2, 2), seed=0, m=1, eta=0.5, **kinds):
    """The engine's own float64 step on the first mini-batch ``train`` would take."""
    d = make_toy(data)
    rows = epoch_order(seed, 0, d.train_images.shape[0])[:m]
    net = Network(sizes, seed=seed, dtype=np.float64, **kinds)
    before = (tuple(w.copy() for w in net.weights), tuple(b.copy() for b in net.biases))
    fwd = net.forward(d.train_images[rows].astype(np.float64))
    bwd = net.backward(fwd, d.train_labels[rows].astype(np.int64))
    net.apply(bwd, eta)
    return fwd, bwd, before, (net.weights, net.biases)


def expected(fwd, bwd, before, after) -> dict[tuple[str, int], np.ndarray]:
    """(key, layer) → the engine's value in the paper's layout (columns = examples)."""
    L = len(fwd.z)
    out = {("x", 0): fwd.a[0].T, ("cost", L): np.array(bwd.loss)}
    for l in range(1, L + 1):
        out |= {
            ("W", l): before[0][l - 1], ("b", l): before[1][l - 1][:, None],
            ("z", l): fwd.z[l - 1].T, ("a", l): fwd.a[l].T,
            ("dC_da", l): bwd.dC_da[l - 1].T, ("delta", l): bwd.delta[l - 1].T,
            ("grad_W", l): bwd.grad_w[l - 1], ("grad_b", l): bwd.grad_b[l - 1][:, None],
            ("W_after", l): after[0][l - 1], ("b_after", l): after[1][l - 1][:, None],
        }  # fmt: skip
        if bwd.sigma_prime[l - 1] is not None:
            out[("sigma_prime", l)] = bwd.sigma_prime[l - 1].T
    return out


@pytest.mark.parametrize(
    ("flags", "kw"),
    [
        ((), {}),
        (("--data", "blobs3", "--layers", "2,3,3", "--output", "softmax", "--hidden", "tanh",
          "--batch-size", "3", "--seed", "4", "--eta", "0.25"),
         dict(data="blobs3", sizes=(2, 3, 3), seed=4, m=3, eta=0.25, hidden="tanh",
              output="softmax", cost="cross_entropy")),
        (("--data", "moons", "--layers", "2,3,2,2", "--hidden", "relu", "--batch-size", "2"),
         dict(data="moons", sizes=(2, 3, 2, 2), m=2, hidden="relu")),
    ],
)  # fmt: skip
def test_json_holds_exactly_the_engines_numbers_in_the_algorithms_order(tmp_path, flags, kw):
    doc = json.loads(write(tmp_path, "json", *flags))
    want = expected(*traces(**kw))
    got = {(s["key"], s["layer"]): np.array(s["value"]) for s in doc["steps"]}
    assert set(want) <= set(got)
    for key, value in want.items():
        assert np.array_equal(got[key], value), key  # exact: JSON floats round-trip
    order = [s["key"] for s in doc["steps"]]
    L = len(kw.get("sizes", (2, 2, 2))) - 1
    # forward, cost, δᴸ … δ¹, gradients, update
    deltas = [s["layer"] for s in doc["steps"] if s["key"] == "delta"]
    assert deltas == list(range(L, 0, -1))
    firsts = [order.index(k) for k in ("x", "z", "cost", "delta", "grad_W", "W_after")]
    assert firsts == sorted(firsts)
    assert doc["significant_digits_printed"] == DIGITS and doc["examples"]


def test_markdown_numbers_read_back_to_six_significant_digits(tmp_path):
    text = write(tmp_path, "md")
    blocks = re.findall(r"```math\n\\begin\{aligned\}\n(.*?)\n\\end\{aligned\}\n```", text, re.S)
    doc = json.loads(write(tmp_path, "json"))
    assert len(blocks) == len(doc["steps"]) > 20
    assert f"{DIGITS} significant digits" in text
    for block, step in zip(blocks, doc["steps"], strict=True):
        value_part = block.splitlines()[-1].rsplit("& = ", 1)[1]
        printed = np.array(parse_numbers(value_part))
        engine = np.ravel(step["value"])
        assert printed.shape == engine.shape, step["key"]
        assert np.allclose(printed, engine, rtol=10.0 ** (1 - DIGITS), atol=0), step["key"]
        if len(block.splitlines()) == 3:  # the substituted line carries numbers too
            assert parse_numbers(block.splitlines()[1].split("& = ", 1)[1])


def test_update_line_is_w_minus_eta_times_the_gradient(tmp_path):
    doc = json.loads(write(tmp_path, "json", "--eta", "2.5", "--batch-size", "4"))
    steps = {(s["key"], s["layer"]): np.array(s["value"]) for s in doc["steps"]}
    for l in (1, 2):
        for p, g in (("W", "grad_W"), ("b", "grad_b")):
            moved = steps[(p, l)] - 2.5 * steps[(g, l)]
            assert np.allclose(steps[(f"{p}_after", l)], moved, rtol=1e-12, atol=1e-15)
            assert not np.array_equal(steps[(f"{p}_after", l)], steps[(p, l)])


def test_latex_is_a_balanced_standalone_document(tmp_path):
    text = write(tmp_path, "tex", "--batch-size", "2")
    assert text.startswith(r"\documentclass{article}") and r"\usepackage{amsmath}" in text
    begins = re.findall(r"\\begin\{(\w+\*?)\}", text)
    ends = re.findall(r"\\end\{(\w+\*?)\}", text)
    assert sorted(begins) == sorted(ends) and begins.count("align*") > 20
    assert text.count("{") == text.count("}")
    assert text.rstrip().endswith(r"\end{document}")
    assert not re.search(r"[^\x00-\x7f—…]", text.replace("\\", "")), "non-ASCII math outside $"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles(tmp_path):
    write(tmp_path, "tex", "--data", "blobs3", "--layers", "2,3,3", "--output", "softmax")
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "worked.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "worked.pdf").stat().st_size > 1000


def test_the_command_runs_as_a_user_types_it_and_refuses_misfits():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(*flags):
        return subprocess.run(
            [sys.executable, "-m", "bpviz", "worked-example", *flags],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
        )  # fmt: skip

    done = run("--data", "xor", "--layers", "2,2,2", "--seed", "0", "--batch-size", "1")
    assert done.returncode == 0 and done.stdout.startswith("# One backpropagation step")
    bad = run("--layers", "2,2,3")
    assert bad.returncode == 2 and "does not fit the data" in bad.stderr
    assert run("--data", "donut").returncode == 2
    assert "worked-example" in run("--help").stdout


def test_the_docs_example_is_what_the_command_writes(tmp_path):
    """docs/worked-example-xor.md is the output of the default command, not edited by hand."""
    assert (ROOT / "docs" / "worked-example-xor.md").read_text(encoding="utf-8") == write(
        tmp_path, "md", "--data", "xor", "--layers", "2,2,2", "--batch-size", "1"
    )

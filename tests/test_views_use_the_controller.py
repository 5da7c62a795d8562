"""The views ask the controller, like every control and menu: no view sends the worker a
command or writes the window model itself (read from the source, AST)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from bpviz.runtime.commands import TrainingWorker

VIEWS = Path(__file__).resolve().parents[1] / "bpviz" / "ui" / "views"
READS = {"latest", "wait_idle"}  # a view may look at the newest snapshot
COMMANDS = {
    name
    for name, member in vars(TrainingWorker).items()
    if inspect.isfunction(member) and not name.startswith("_") and name not in READS
}


def bypasses(source: str) -> list[str]:
    """``….worker.<command>(…)`` and ``….model.set_…(…)`` / ``.select``/``.pin`` calls."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner, name = node.func.value, node.func.attr
        if not isinstance(owner, ast.Attribute | ast.Name):
            continue
        held = owner.attr if isinstance(owner, ast.Attribute) else owner.id
        if held == "worker" and name in COMMANDS:
            found.append(f"line {node.lineno}: worker.{name}")
        if held == "model" and (name.startswith("set_") or name in ("select", "pin")):
            found.append(f"line {node.lineno}: model.{name}")
    return found


def test_the_command_names_are_the_protocols():
    assert {
        "run",
        "pause",
        "step_batch",
        "train_on",
        "set_eta",
        "submit",
        "with_session",
    } <= COMMANDS


def test_no_view_commands_the_worker_or_writes_the_model():
    found = {path.name: bypasses(path.read_text()) for path in sorted(VIEWS.glob("*.py"))}
    found = {name: hits for name, hits in found.items() if hits}
    assert not found, found


def test_the_check_catches_what_it_is_for():
    source = (
        "def train(self, x):\n"
        "    self.window.worker.train_on(x, [1])\n"
        "    self.window.model.set_probe(None)\n"
        "    self.window.worker.latest()\n"  # reading is fine
        "    self.window.controller.train_on(x, 1)\n"
    )
    assert bypasses(source) == ["line 2: worker.train_on", "line 3: model.set_probe"]

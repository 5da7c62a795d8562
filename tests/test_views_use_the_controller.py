"""The views ask the controller, like every control and menu: no view sends the worker a
command or writes the window model itself, and no module of the window but the
controller runs, pauses or steps the worker (read from the source, AST)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from bpviz.runtime.commands import TrainingWorker

UI = Path(__file__).resolve().parents[1] / "bpviz" / "ui"
VIEWS = UI / "views"
RUN_STATE = {"run", "pause", "step_batch", "step_phase"}  # what the Run button shows
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


def test_only_the_controller_runs_pauses_or_steps_the_worker():
    """Whether training runs is the window model's (the Run button follows it): a module
    that ran the worker itself — the File menu resuming after a quick save did — would
    leave the model behind, so every such request goes through the controller."""
    found = {
        path.name: [hit for hit in bypasses(path.read_text()) if hit.split(".")[-1] in RUN_STATE]
        for path in sorted(UI.rglob("*.py"))
        if path.name != "controller.py"
    }
    found = {name: hits for name, hits in found.items() if hits}
    assert not found, found

"""The training process seen from outside: how it ended, whether it is stopped, and how a
new one takes over from a snapshot. Helpers of ``bpviz.runtime.remote`` (no Qt)."""

from __future__ import annotations

import os
import signal

STOPPED = ("T", "t")  # /proc states of a stopped or traced process


def die_with_parent(parent: int | None) -> None:
    """In the training process: be killed when the window's process ends, even while busy
    (a with_session call stuck on a file would otherwise never read the pipe's EOF and
    live on as an orphan). Linux's PR_SET_PDEATHSIG; elsewhere nothing. It fires when the
    *thread* that started the child ends: the window starts it from its GUI thread."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:  # it ended before the prctl
        os._exit(1)


def describe_exit(exitcode: int | None) -> str:
    """How a process ended, in words: "killed by signal 9 (SIGKILL)", "exited with 1"."""
    if exitcode is None:
        return "is still running"
    if exitcode < 0:
        try:
            name = f" ({signal.Signals(-exitcode).name})"
        except ValueError:
            name = ""
        return f"was killed by signal {-exitcode}{name}"
    return "ended" if exitcode == 0 else f"exited with status {exitcode}"


def process_state(pid: int | None) -> str | None:
    """The kernel's one-letter state of process ``pid`` (Linux: R, S, D, T stopped, Z
    zombie …), or None where /proc is not available."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read().decode("ascii", "replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()[0] if ")" in text else None


def resume_from_parameters(session, weights: tuple, biases: tuple) -> int:
    """Runs in a (new) training process: continue from ``weights``/``biases`` — a
    snapshot's W^l ``(n_l, n_{l-1})`` and b^l ``(n_l,)`` — as a new run of the session's
    configuration: counters at 0, history empty (a snapshot has neither the loss of every
    step nor every epoch's confusion matrix, so nothing older can be restored honestly).
    Returns the number of parameters set."""
    from bpviz.session.config import make_network
    from bpviz.session.history import History

    net = make_network(session.config)
    if len(weights) != len(net.weights) or len(biases) != len(net.biases):
        raise ValueError("the parameters do not fit the network")
    pairs = (*zip(net.weights, weights, strict=True), *zip(net.biases, biases, strict=True))
    for target, source in pairs:
        if target.shape != source.shape:
            raise ValueError(f"parameters of shape {source.shape} do not fit {target.shape}")
        target[...] = source
    flat = net.parameters.copy()
    session.restore(
        session.config,
        flat,
        eta=session.eta,
        step=0,
        epoch=0,
        batch_in_epoch=0,
        history=History(session.eta),
        last_eval=None,
        checkpoints=[(0, flat.copy())],
        epoch_seconds=0.0,
        phases_run=0,
    )
    return int(flat.size)

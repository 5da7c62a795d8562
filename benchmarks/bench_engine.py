"""The engine's speed on the paper's network (784-30-10, sigmoid, quadratic, batch 10, float32).

Figures, all measured in this one run, in many short (about 1 ms) interleaved blocks so
the machine's noise hits every contender alike; each block is timed in CPU time of this
thread (``time.thread_time``: one BLAS thread, so all the work is on it), which other
developers' processes do not inflate the way they inflate wall time on a shared 2-core
machine; each rate is the best of its blocks.

- ``engine_steps_per_s``: mini-batch steps per second of ``FastTrainer.train_epoch``
  (gather, forward, cost, backward, update; a loss per step) over shuffled MNIST.
- ``engine_vs_loop``: that rate over a per-example loop in the style of the classic
  tutorial code (Nielsen's network.py: column vectors, float64, one backprop per digit).
- ``engine_vs_floor``: the step's time over the time of its five bare matrix products
  (z^1, z^2, (W^2)^T δ^2, the two weight products) with preallocated outputs, whichever
  is faster of ``np.matmul(out=)`` and the BLAS gemm calls the engine makes — 1.0 is the floor;
  ``engine_vs_matmul_floor``: the same over the ``np.matmul(out=)`` products alone.
- ``engine_vs_torch``: the rate over the same network in torch tensors with a manual
  backward (float32, one thread, its fastest here); only when torch is importable.
- ``engine_gather_us``, ``engine_elementwise_us``, ``engine_floor_us``: what a step is made
  of, each measured alone in the same blocks (µs a step): the two row gathers (x and y of
  10 shuffled digits) the step makes, its other NumPy/BLAS calls besides the five
  products (σ, σ', the ⊙, the loss, the bias updates) on its own buffers, and the floor;
  ``engine_bound_vs_floor`` = (floor + gather + element-wise) / floor, the ratio a step
  making these calls cannot go below even with no Python overhead at all.
- ``engine_epoch_seconds``: CPU seconds of one full epoch of 60,000 digits, shuffled
  (best of 2, or 5 without --quick); ``engine_epoch_wall_seconds``: the same epochs' best
  wall time (the machine's load shows here, not in the CPU time).

All on one BLAS thread (``OPENBLAS_NUM_THREADS=1`` unless set). Data: the full MNIST from
``BPVIZ_MNIST_DIR`` when there, else 60,000 random digits (the cost of a step does not
depend on the pixels). Run alone: ``python3 benchmarks/bench_engine.py [--quick] [--json]``.
"""

from __future__ import annotations

import os
import sys
import time

# One BLAS thread for every contender (torch too): at batch 10 a second thread only adds
# contention on a shared 2-core machine. Set before NumPy loads (run.py starts a fresh
# process per module).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from scipy.linalg.blas import sgemm

from bpviz.engine import FastTrainer, Network

SIZES = (784, 30, 10)
BATCH = 10
clock = time.thread_time  # CPU time of this thread: what the step costs, not the queue


def training_set() -> tuple[np.ndarray, np.ndarray]:
    """(images (60000, 784) uint8, labels (60000,))."""
    path = os.environ.get("BPVIZ_MNIST_DIR")
    if path:
        try:
            from bpviz.data import load_idx_dir

            data = load_idx_dir(path)
            return data.train_images, data.train_labels
        except Exception as error:  # the figures do not depend on the pixels
            print(f"bench_engine: using random digits ({error})", file=sys.stderr)
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (60000, 784), dtype=np.uint8), rng.integers(0, 10, 60000)


def engine_rate(trainer: FastTrainer, order: np.ndarray, steps: int) -> float:
    chunk = order[: steps * BATCH]
    start = clock()
    trainer.train_epoch(chunk, 0.5)
    return steps / (clock() - start)


def part_rates(trainer: FastTrainer, order: np.ndarray, steps: int) -> tuple[float, float]:
    """Rates (per second) of two parts of the last step, each alone on the step's buffers:
    the gathers of x and y for shuffled mini-batches, and every call of the step other
    than its five matrix products (σ, σ', the ⊙, the loss's vdot, the bias gemv)."""
    b, (gemm, gemv) = trainer.last, trainer._blas
    take_x, take_y, x, y = trainer.x_all.take, trainer.y_all.take, b.x, b.y
    start = clock()
    for indices in order[: steps * BATCH].reshape(steps, BATCH):
        take_x(indices, 0, x, "clip")
        take_y(indices, 0, y, "clip")
    gather = steps / (clock() - start)
    ops = [op for op in b.plan if op[0] is not gemm]
    difference, vdot = b.dC_da[-1], np.vdot
    start = clock()
    for _ in range(steps):
        for function, args in ops:
            function(*args)
        vdot(difference, difference)
        for *_, delta_t, _, bias, ones in b.updates:
            gemv(0.0, delta_t, ones, 1.0, bias, 0, 1, 0, 1, 0, 1)  # α = 0: b unchanged
    return gather, steps / (clock() - start)


def floor_rates(steps: int) -> tuple[float, float]:
    """The five matrix products of one step, on operands of the step's shapes, into
    preallocated outputs: with ``np.matmul(out=)``, and with the BLAS gemm calls the engine
    makes (z^T = W a^T, dC_da^T = W^T δ^T, W^T ← W^T − s a^T δ: the outputs transposed,
    Fortran-ordered views). Returns both rates (steps per second)."""
    rng = np.random.default_rng(1)
    f = np.float32
    x, W1, W2 = (rng.random(s, dtype=f) for s in ((BATCH, 784), (30, 784), (10, 30)))
    d2, d1 = rng.random((BATCH, 10), dtype=f), rng.random((BATCH, 30), dtype=f)
    z1, z2, back = np.empty((BATCH, 30), f), np.empty((BATCH, 10), f), np.empty((BATCH, 30), f)
    u1, u2 = np.empty((30, 784), f), np.empty((10, 30), f)
    matmul = np.matmul
    start = clock()
    for _ in range(steps):
        matmul(x, W1.T, out=z1)
        matmul(z1, W2.T, out=z2)
        matmul(d2, W2, out=back)
        matmul(d2.T, z1, out=u2)
        matmul(d1.T, x, out=u1)
    with_matmul = steps / (clock() - start)
    W1t, W2t, xt, z1t, z2t, backt, d2t, d1t = W1.T, W2.T, x.T, z1.T, z2.T, back.T, d2.T, d1.T
    W2.fill(0.0)  # the in-place updates below accumulate: keep them from overflowing
    W1.fill(0.0)
    start = clock()
    for _ in range(steps):
        sgemm(1.0, W1t, xt, 0.0, z1t, 1, 0, 1)
        sgemm(1.0, W2t, z1t, 0.0, z2t, 1, 0, 1)
        sgemm(1.0, W2t, d2t, 0.0, backt, 0, 0, 1)
        sgemm(-1e-9, z1t, d2t, 1.0, W2t, 0, 1, 1)
        sgemm(-1e-9, xt, d1t, 1.0, W1t, 0, 1, 1)
    with_blas = steps / (clock() - start)
    return with_matmul, with_blas


def loop_rate(images: np.ndarray, labels: np.ndarray, order: np.ndarray, steps: int) -> float:
    """The classic tutorial code's way: column vectors, one backprop per digit, float64
    parameters (Nielsen's network.py, as published)."""
    rng = np.random.default_rng(2)
    weights = [rng.standard_normal((30, 784)), rng.standard_normal((10, 30))]
    biases = [rng.standard_normal((30, 1)), rng.standard_normal((10, 1))]
    data = [  # as its loader gives them: float32 pixels, float64 one-hot targets
        (images[i].reshape(784, 1) * np.float32(1 / 255), np.eye(10)[labels[i]].reshape(10, 1))
        for i in order[: steps * BATCH]
    ]

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    def sigmoid_prime(z):
        return sigmoid(z) * (1 - sigmoid(z))

    def backprop(x, y):
        nabla_b = [np.zeros(b.shape) for b in biases]
        nabla_w = [np.zeros(w.shape) for w in weights]
        activation, activations, zs = x, [x], []
        for b, w in zip(biases, weights, strict=True):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        delta = np.dot(weights[-1].transpose(), delta) * sigmoid_prime(zs[-2])
        nabla_b[-2] = delta
        nabla_w[-2] = np.dot(delta, activations[-3].transpose())
        return nabla_b, nabla_w

    start = clock()
    for s in range(steps):
        nabla_b = [np.zeros(b.shape) for b in biases]
        nabla_w = [np.zeros(w.shape) for w in weights]
        for x, y in data[s * BATCH : (s + 1) * BATCH]:
            delta_nabla_b, delta_nabla_w = backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b, strict=True)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w, strict=True)]
        weights = [w - (0.5 / BATCH) * nw for w, nw in zip(weights, nabla_w, strict=True)]
        biases = [b - (0.5 / BATCH) * nb for b, nb in zip(biases, nabla_b, strict=True)]
    return steps / (clock() - start)


def torch_trainer(images: np.ndarray, labels: np.ndarray):
    """The same network in torch tensors, manual backward, in-place updates, one thread;
    returns ``rate(order, steps)``."""
    import torch

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(3)
    X = torch.from_numpy(np.multiply(images, 1.0 / 255.0, dtype=np.float32))
    Y = torch.eye(10)[torch.from_numpy(labels.astype(np.int64))]
    W1, W2 = torch.randn(30, 784, generator=g) / 28, torch.randn(10, 30, generator=g) / 30**0.5
    b1, b2 = torch.randn(30, generator=g), torch.randn(10, generator=g)
    scale = 0.5 / BATCH

    def rate(order: np.ndarray, steps: int) -> float:
        idx = torch.from_numpy(order[: steps * BATCH].astype(np.int64))
        with torch.no_grad():
            start = clock()
            for s in range(steps):
                rows = idx[s * BATCH : (s + 1) * BATCH]
                x, y = X.index_select(0, rows), Y.index_select(0, rows)
                a1 = torch.sigmoid(torch.addmm(b1, x, W1.t()))
                a2 = torch.sigmoid(torch.addmm(b2, a1, W2.t()))
                d2 = (a2 - y) * a2 * (1 - a2)
                d1 = (d2 @ W2) * a1 * (1 - a1)
                W2.sub_(d2.t() @ a1, alpha=scale)
                b2.sub_(d2.sum(0), alpha=scale)
                W1.sub_(d1.t() @ x, alpha=scale)
                b1.sub_(d1.sum(0), alpha=scale)
                float(((a2 - y) ** 2).sum())  # a loss per step, as the engine records
            return steps / (clock() - start)

    return rate


def has_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    except OSError as error:  # installed but unloadable
        print(f"bench_engine: torch does not load ({error}); no engine_vs_torch", file=sys.stderr)
        return False
    return True


def run(quick: bool = False) -> dict[str, float]:
    images, labels = training_set()
    rng = np.random.default_rng(0)
    trainer = FastTrainer(Network(SIZES, seed=0), images, labels, BATCH)
    # Many short interleaved blocks of about 1 ms each, the best block of each contender:
    # on a shared machine the best block is the least disturbed one, and blocks of equal
    # duration give every contender the same chance of an undisturbed one.
    rounds, epochs = (150, 2) if quick else (600, 5)
    steps = {"engine": 25, "floor": 60, "loop": 2, "torch": 12}
    torch_rate = torch_trainer(images, labels) if has_torch() else None
    best = dict.fromkeys((*steps, "matmul", "gather", "elementwise"), 0.0)
    engine_rate(trainer, rng.permutation(60000), 500)  # warm up: buffers, caches
    order = rng.permutation(60000)
    for r in range(rounds):
        block = np.roll(order, -r * 25 * BATCH)
        best["engine"] = max(best["engine"], engine_rate(trainer, block, steps["engine"]))
        with_matmul, with_blas = floor_rates(steps["floor"])
        best["floor"] = max(best["floor"], with_matmul, with_blas)
        best["matmul"] = max(best["matmul"], with_matmul)
        gather, elementwise = part_rates(trainer, block, steps["floor"])
        best["gather"] = max(best["gather"], gather)
        best["elementwise"] = max(best["elementwise"], elementwise)
        best["loop"] = max(best["loop"], loop_rate(images, labels, block, steps["loop"]))
        if torch_rate is not None:
            best["torch"] = max(best["torch"], torch_rate(block, steps["torch"]))
    epoch = wall = float("inf")
    for _ in range(epochs):
        permutation = rng.permutation(60000)
        start, start_wall = clock(), time.perf_counter()
        trainer.train_epoch(permutation, 0.5)
        epoch, wall = min(epoch, clock() - start), min(wall, time.perf_counter() - start_wall)
    figures = {
        "engine_steps_per_s": round(best["engine"], 1),
        "engine_vs_loop": round(best["engine"] / best["loop"], 2),
        "engine_vs_floor": round(best["floor"] / best["engine"], 3),
        "engine_vs_matmul_floor": round(best["matmul"] / best["engine"], 3),
        "engine_floor_us": round(1e6 / best["floor"], 2),
        "engine_gather_us": round(1e6 / best["gather"], 2),
        "engine_elementwise_us": round(1e6 / best["elementwise"], 2),
        "engine_bound_vs_floor": round(
            (1 / best["floor"] + 1 / best["gather"] + 1 / best["elementwise"]) * best["floor"], 3
        ),
        "engine_epoch_seconds": round(epoch, 3),
        "engine_epoch_wall_seconds": round(wall, 3),
    }
    print(f"bench_engine: load average {os.getloadavg()} (2 cores shared)", file=sys.stderr)
    if torch_rate is not None:
        figures["engine_vs_torch"] = round(best["engine"] / best["torch"], 2)
    return figures


if __name__ == "__main__":
    import standalone

    standalone.main(run, __doc__)

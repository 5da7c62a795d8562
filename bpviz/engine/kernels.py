"""The computation of one mini-batch, as lists of NumPy calls into caller-provided arrays.

Both the traced path (network.py: fresh arrays, run once, frozen afterwards) and the fast
path (fast.py: buffers, lists built once and replayed) use these, so both run the very
same NumPy calls on operands of the same shapes and memory layout — bit-identical numbers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from functools import cache

import numpy as np

from bpviz.engine.functions import Activation, Cost, Op

ALIGNMENT = 64  # bytes: a cache line


def empty(shape: int | tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """A zeroed C-ordered ``(shape)`` array of ``dtype`` starting on an :data:`ALIGNMENT`
    boundary.

    Every array the engine computes into (parameters, gradients, z, a, δ, the fast path's
    buffers) is made here. NumPy's own large arrays start 16 bytes past a cache line as
    often as not (malloc's header), and OpenBLAS's kernels run markedly slower on such
    operands: the same product of x by W^1 at batch 10 took half as long again with both
    off the boundary (``benchmarks/README.md``, session 6). Alignment changes only how
    the operands are loaded, not the order of the sums: the numbers are the same.

    The memory is a ``bytearray`` the array alone refers to (its ``base``), so that an
    array made read-only (``frozen``) is as sealed as one that owns its memory
    (``runtime/readonly.py`` trusts no writable array underneath).
    """
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    memory = bytearray(math.prod(shape) * dtype.itemsize + ALIGNMENT)
    start = -np.frombuffer(memory, np.uint8).ctypes.data % ALIGNMENT
    return np.ndarray(shape, dtype, buffer=memory, offset=start)


def n_parameters(sizes: Sequence[int]) -> int:
    """Number of weights and biases of a network with layer sizes n_0 … n_L:
    Σ_l n_l (n_{l-1} + 1). The one count (the session file format asks it too)."""
    return sum(n_out * (n_in + 1) for n_in, n_out in itertools.pairwise(sizes))


def parameter_views(
    flat: np.ndarray, sizes: tuple[int, ...]
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Views W^l ``(n_l, n_{l-1})`` and b^l ``(n_l,)`` into ``flat``, laid out W^1 b^1 W^2 …"""
    weights, biases, start = [], [], 0
    for n_in, n_out in itertools.pairwise(sizes):
        weights.append(flat[start : start + n_out * n_in].reshape(n_out, n_in))
        start += n_out * n_in
        biases.append(flat[start : start + n_out])
        start += n_out
    return tuple(weights), tuple(biases)


def product(
    left_t: np.ndarray, right_t: np.ndarray, out: np.ndarray, transpose_left: int, beta: float = 0.0
) -> Op:
    """The op ``out = right @ left + beta · out`` ``(m, n)``, one BLAS gemm writing into ``out``.

    Computed transposed, out^T = left^T right^T, on Fortran-ordered views of C-ordered
    arrays: ``left_t`` is left^T ((W^l)^T, say, F-ordered as W^l is C-ordered), or left
    itself when ``transpose_left`` (then passed to BLAS as op(A) = A^T); ``right_t`` is
    right^T. At batch 10 the small products cost about 1 µs this way, 2 µs with
    ``np.matmul(out=)``.
    """
    if not out.flags.c_contiguous or out.dtype not in (np.float32, np.float64):
        raise ValueError("a product's output must be a C-contiguous float32/float64 array")
    right_t = np.ascontiguousarray(right_t.T, out.dtype).T  # a copy only if not laid out so
    if not left_t.flags.f_contiguous or left_t.dtype != out.dtype:
        left_t = np.asfortranarray(left_t, out.dtype)
    return (blas(out.dtype)[0], (1.0, left_t, right_t, beta, out.T, transpose_left, 0, 1))


def forward_layer(
    W: np.ndarray,
    b: np.ndarray,
    sigma: Activation,
    a_prev: np.ndarray,
    z: np.ndarray,
    a: np.ndarray,
) -> list[Op]:
    """z^l = W^l a^{l-1} + b^l, a^l = σ(z^l).

    z^l starts as b^l in every row, then one gemm adds ``a_prev @ W.T`` to it (β = 1): a
    copy is cheaper than an add broadcasting b^l after the product.
    """
    return [(np.copyto, (z, b)), product(W.T, a_prev.T, z, 1, 1.0), *sigma.forward(z, a)]


def output_delta(
    sigma: Activation,
    cost: Cost,
    z: np.ndarray,
    a: np.ndarray,
    y: np.ndarray,
    dC_da: np.ndarray,
    sigma_prime: np.ndarray | None,
    delta: np.ndarray,
) -> list[Op]:
    """∂C_x/∂a^L, σ'(z^L) and δ^L = ∂C_x/∂a^L ⊙ σ'(z^L) (softmax + cross-entropy: a^L − y)."""
    ops = cost.derivative(a, y, dC_da)
    if sigma_prime is None:
        return [*ops, (np.subtract, (a, y, delta))]
    return [*ops, *sigma.prime(z, a, sigma_prime), (np.multiply, (dC_da, sigma_prime, delta))]


def hidden_delta(
    W_next: np.ndarray,
    sigma: Activation,
    delta_next: np.ndarray,
    z: np.ndarray,
    a: np.ndarray,
    dC_da: np.ndarray,
    sigma_prime: np.ndarray,
    delta: np.ndarray,
) -> list[Op]:
    """∂C_x/∂a^l = (W^{l+1})^T δ^{l+1} (as ``delta_next @ W``, one gemm), δ^l = that ⊙ σ'(z^l)."""
    return [
        product(W_next.T, delta_next.T, dC_da, 0),
        *sigma.prime(z, a, sigma_prime),
        (np.multiply, (dC_da, sigma_prime, delta)),
    ]


def layer_gradients(
    delta: np.ndarray, a_prev: np.ndarray, grad_w: np.ndarray, grad_b: np.ndarray
) -> list[Op]:
    """Batch sums Σ_x δ^l (a^{l-1})^T and Σ_x δ^l; the caller divides by m."""
    return [(np.matmul, (delta.T, a_prev, grad_w)), (np.add.reduce, (delta, 0, None, grad_b))]


@cache
def blas(dtype: np.dtype) -> tuple[Callable, Callable]:
    """BLAS gemm and gemv (SciPy's wrappers) for ``dtype``: in-place C ← αAB + βC, y ← αAx + βy."""
    from scipy.linalg.blas import get_blas_funcs  # once (cached): not at import (~0.5 s)

    gemm, gemv = get_blas_funcs(("gemm", "gemv"), dtype=dtype)
    return gemm, gemv


def update_layer(
    W_t: np.ndarray,
    b: np.ndarray,
    delta: np.ndarray,
    a_prev: np.ndarray,
    scale: float,
    ones: np.ndarray,
) -> None:
    """W^l ← W^l − η ∂C/∂W^l, b^l ← b^l − η ∂C/∂b^l in place, with scale = η/m.

    W^l ← W^l − scale · Σ_x δ^l (a^{l-1})^T as one BLAS gemm (α = −scale, β = 1) on
    ``W_t`` = W^l.T, accumulating into W without a temporary; b^l ← b^l − scale · Σ_x δ^l
    as one gemv with ``ones`` ``(m,)``. δ^l, a^{l-1}: C-contiguous ``(m, n)``. fast.py
    inlines these calls.
    """
    gemm, gemv = blas(W_t.dtype)
    if gemm(-scale, a_prev.T, delta.T, 1.0, W_t, 0, 1, 1) is not W_t:
        raise RuntimeError("BLAS gemm did not update W in place")
    if gemv(-scale, delta.T, ones, 1.0, b, 0, 1, 0, 1, 0, 1) is not b:
        raise RuntimeError("BLAS gemv did not update b in place")

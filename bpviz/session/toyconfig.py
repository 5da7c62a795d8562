"""Which network the window trains when the data changes: a toy set's own defaults, or
back to the MNIST network when MNIST is chosen again.

A toy set (``bpviz.data.toy``) comes with its network and training (``DEFAULTS``:
2-…-K, tanh, softmax + cross-entropy, its η, batch size 1); ``python -m bpviz train
--data NAME`` uses the same table. A network made for 2 inputs means nothing on 784
pixels, so choosing MNIST after a toy set goes back to the MNIST configuration in force
before (or the default 784-30-10).
"""

from __future__ import annotations

from dataclasses import replace

from bpviz.data.dataset import Dataset
from bpviz.data.toy import DEFAULTS, TOY_NAMES, n_classes
from bpviz.session.snapshot import SessionConfig

TOY_INPUTS = 2  # a toy set's inputs are the two coordinates of a point


def is_toy(config: SessionConfig) -> bool:
    """Whether ``config`` is a network for toy 2-D data (2 inputs)."""
    return config.sizes[0] == TOY_INPUTS


def toy_config(name: str, base: SessionConfig | None = None) -> SessionConfig:
    """The configuration toy set ``name`` trains with by default: its layers, σ, output,
    cost, η and batch size from ``DEFAULTS[name]``; init and seed from ``base``."""
    d = DEFAULTS[name]
    return replace(
        base or SessionConfig(),
        sizes=d.layers(n_classes(name)),
        hidden=d.hidden,
        output=d.output,
        cost=d.cost,
        eta=d.eta,
        batch_size=d.batch_size,
    )


def config_for_data(
    saved: SessionConfig, dataset: Dataset, choice: str | None, mnist: SessionConfig | None = None
) -> SessionConfig:
    """The configuration to train ``dataset`` (chosen as ``choice``) with, given the one in
    force (``saved``): a toy set's defaults for a toy choice; for other data, ``saved`` with
    its input and output layers sized to the data — unless ``saved`` was made for toy data,
    then ``mnist`` (the MNIST configuration in force before; default ``SessionConfig()``,
    784-30-10) likewise sized."""
    if choice in TOY_NAMES:
        return toy_config(choice, saved)
    base = saved
    if is_toy(saved) and dataset.n_inputs != TOY_INPUTS:
        base = mnist if mnist is not None else replace(SessionConfig(), seed=saved.seed)
    sizes = (dataset.n_inputs, *base.sizes[1:-1], dataset.n_classes)
    batch = min(base.batch_size, int(dataset.train_images.shape[0]))
    return replace(base, sizes=sizes, batch_size=batch)

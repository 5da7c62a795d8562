"""The data layer: IDX reading, the embedded sample, source resolution, the downloader.

No Qt here. Everything the rest of bpviz needs is importable from ``bpviz.data``.
"""

from bpviz.data.dataset import DIGIT_NAMES, FASHION_NAMES, Dataset
from bpviz.data.download import MIRRORS, MNIST_MD5, download_mnist
from bpviz.data.errors import DataError, DownloadCancelled, DownloadError
from bpviz.data.idx import read_idx
from bpviz.data.mnist import load_idx_dir
from bpviz.data.sample import load_sample
from bpviz.data.sources import ENV_DATA, default_mnist_dir, resolve_source, user_data_dir

__all__ = [
    "DIGIT_NAMES",
    "ENV_DATA",
    "FASHION_NAMES",
    "MIRRORS",
    "MNIST_MD5",
    "DataError",
    "Dataset",
    "DownloadCancelled",
    "DownloadError",
    "default_mnist_dir",
    "download_mnist",
    "load_idx_dir",
    "load_sample",
    "read_idx",
    "resolve_source",
    "user_data_dir",
]

"""MNIST from the official IDX files: the first N training images and the full 10k test set.

Authors' code [DG-code]: `Subset(train, range(train_points))` -- the *first* N images, not a random
subset -- and `transforms.ToTensor()` only, so pixels are in [0, 1]; the full test set, no validation split.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import os
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import torch

from .config import check, env_path, home
from .folders import unreadable, writable
from .records import atomic_write

FILES = {  # name -> md5 of the *uncompressed* content (canonical; see data/mnist/PROVENANCE.md)
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}
MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/")


def _cache_home() -> Path:
    """$XDG_CACHE_HOME with `~` expanded (a quoted '~/.cache' too); unset, empty or relative (which the XDG spec
    says to ignore): ~/.cache."""
    path = Path(os.path.expanduser(os.environ.get("XDG_CACHE_HOME", "")))
    return path if path.is_absolute() else Path.home() / ".cache"


CACHE_DATA = _cache_home() / "grokkit" / "mnist"


def data_dir() -> Path:
    """GROKKIT_DATA if set (`~` expanded; relative: to the project folder, config.home), else the project's
    data/mnist, else the user cache (downloaded into)."""
    if env_path("GROKKIT_DATA"):
        return env_path("GROKKIT_DATA")
    shipped = project_data()
    if shipped is not None and all((shipped / f).exists() for f in FILES):
        return shipped
    return CACHE_DATA


def project_data() -> Path | None:
    """The project's data/mnist (config.home), or None outside a project."""
    try:
        return home() / "data" / "mnist"
    except FileNotFoundError:
        return None


def _download(folder: Path) -> None:
    try:  # before any download: a shared folder of another user's says so, at once
        writable(folder, "GROKKIT_DATA")
    except OSError as e:
        missing = [n for n in FILES if not (folder / n).exists()]
        raise OSError(e.errno, f"missing MNIST file(s) {', '.join(missing) or '(one of four)'}, to be downloaded here, "
                               f"and {e.strerror}", e.filename) from None
    for name, md5 in FILES.items():
        if (folder / name).exists():
            continue
        err = None
        for mirror in MIRRORS:
            try:
                with urllib.request.urlopen(mirror + name, timeout=30) as r:
                    blob = r.read()
                if hashlib.md5(gzip.decompress(blob)).hexdigest() != md5:
                    raise OSError(f"md5 mismatch for {name} from {mirror}")
                atomic_write(folder / name, lambda f, blob=blob: f.write(blob))
                break
            except OSError as e:  # URLError is an OSError
                err = e
        else:
            shipped = project_data() or "the data/mnist folder of your clone (GROKKIT_HOME)"
            where = (f"{folder} (GROKKIT_DATA={os.environ['GROKKIT_DATA']})" if os.environ.get("GROKKIT_DATA")
                     else f"{shipped} or in a folder named by GROKKIT_DATA")
            raise FileNotFoundError(
                f"MNIST file {name} is missing and could not be downloaded ({err}). Put the four official files "
                f"(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
                f"t10k-labels-idx1-ubyte.gz) in {where}.")


@functools.cache
def _read_idx(path: str, md5: str) -> np.ndarray:
    """Parse one gzipped IDX file; its content md5 is checked once per process (cached with the array)."""
    try:
        blob = Path(path).read_bytes()
    except OSError as e:  # another user's file (mode 0600), not a damaged one: never "corrupt -- replace it"
        raise unreadable(path, "MNIST file", "GROKKIT_DATA", e) from None
    try:
        raw = gzip.decompress(blob)
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile (CRC), truncated or damaged stream
        raise ValueError(f"MNIST file {path}: not a valid gzip file ({e}); the file is corrupt -- replace it with "
                         f"the official file (md5 of its content: {md5}, see data/mnist/PROVENANCE.md)") from None
    got = hashlib.md5(raw).hexdigest()
    if got != md5:
        raise ValueError(f"MNIST file {path}: content md5 {got} != canonical {md5}; the file is modified or "
                         f"corrupt -- replace it with the official file (see data/mnist/PROVENANCE.md)")
    magic = int.from_bytes(raw[0:4], "big")
    ndim = magic & 0xFF
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    arr = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
    arr.setflags(write=False)
    return arr


def mnist_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The raw uint8 arrays (60000x28x28, 60000, 10000x28x28, 10000), md5-verified."""
    folder = _ready_folder()
    return tuple(_read_idx(str(folder / f), md5) for f, md5 in FILES.items())


def _ready_folder() -> Path:
    """data_dir(), with the four files downloaded into it when one is missing."""
    folder = data_dir()
    if not all((folder / f).exists() for f in FILES):
        _download(folder)
    return folder


def load_mnist(n_train: int, device=None, dtype=torch.float32):
    """(x_train, y_train, x_test, y_test): the first n_train training images and all 10k test images,
    flattened to 784, pixels / 255 ("ToTensor()" only), labels int64, on `device`."""
    check("n_train", n_train)  # RunConfig's bound (ValueError naming n_train)
    xtr, ytr, xte, yte = mnist_arrays()

    def images(a):
        return (torch.from_numpy(a.reshape(len(a), -1).astype(np.float64)) / 255.0).to(device=device, dtype=dtype)

    def labels(a):
        return torch.from_numpy(a.astype(np.int64)).to(device)

    return images(xtr[:n_train]), labels(ytr[:n_train]), images(xte), labels(yte)


@functools.cache
def constant_mse(n_train: int) -> float:
    """The train MSE of the best constant output on the first n_train images: every output the mean one-hot target
    (the class frequencies p_k), so the MSE (nn.MSELoss, mean over n_train x 10 elements) is Σ_k p_k (1 - p_k) / 10,
    0.09 for balanced classes. A network whose train MSE sits near it at chance train accuracy has collapsed to
    (nearly) the same output for every input. Reads the training labels only; ValueError naming n_train when out of
    range."""
    check("n_train", n_train)
    folder = _ready_folder()
    name = "train-labels-idx1-ubyte.gz"
    p = np.bincount(_read_idx(str(folder / name), FILES[name])[:n_train], minlength=10) / n_train
    return float(np.sum(p * (1 - p)) / 10)

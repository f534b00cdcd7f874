"""grokkit: reproduce "Deep Grokking: Would Deep Neural Networks Generalize Better?" (Fan, Pascanu, Jaggi 2024).

The names below load on first use (PEP 562), so `import grokkit.config` or a CLI command that only reads records
(`python -m grokkit list`, `scoreboard`, `events`, `export`) does not import torch (about 2 s of CPU per process).
"""
import sys
import types
from importlib import import_module

__version__ = "0.1.0"
_HOME = {"bench_batched": "batched", "train_batched": "batched", "RunConfig": "config", "resolve_device": "config",
         "smoke": "config", "smoke_config": "config", "load_mnist": "data", "effective_rank": "metrics",
         "linear_probes": "metrics", "loss_and_accuracy": "metrics", "rank_of": "metrics", "snapshot": "metrics",
         "tunnel_length": "metrics", "weight_norms": "metrics", "MLP": "model", "make_mlp": "model",
         "RecordError": "records", "Run": "records", "list_records": "records", "load": "records",
         "save": "records", "load_or_train": "train", "train": "train"}
__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'grokkit' has no attribute {name!r}")
    value = getattr(import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))


class _Package(types.ModuleType):
    """Importing the submodule grokkit.train binds the module to the package's name `train` (the import system does
    that after loading it); the package keeps the function, as an eager `from .train import train` did."""
    def __setattr__(self, name: str, value) -> None:
        if not (name == "train" and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

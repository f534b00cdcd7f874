"""grokkit: reproduce "Deep Grokking: Would Deep Neural Networks Generalize Better?" (Fan, Pascanu, Jaggi 2024)."""
from .batched import bench_batched, train_batched
from .config import RunConfig, resolve_device, smoke, smoke_config
from .data import load_mnist
from .metrics import effective_rank, linear_probes, loss_and_accuracy, rank_of, snapshot, tunnel_length, weight_norms
from .model import MLP, make_mlp
from .records import RecordError, Run, list_records, load, save
from .train import load_or_train, train

__version__ = "0.1.0"
__all__ = ["MLP", "RecordError", "Run", "RunConfig", "bench_batched", "effective_rank", "linear_probes", "list_records",
           "load", "load_mnist", "load_or_train", "loss_and_accuracy", "make_mlp", "rank_of", "resolve_device", "save",
           "smoke", "smoke_config", "snapshot", "train", "train_batched", "tunnel_length", "weight_norms"]

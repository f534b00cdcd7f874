"""RunConfig: every knob of one training run, validated on construction.

Defaults are the paper's (Fan, Pascanu, Jaggi 2024, p. 2 [DG p2-1]): "All the models have the same width (400)",
"initialization scale α=8.0 and weight decay γ=0.01", "Adam optimizer (learning rate 1×10⁻³) and
Mean Square Error (MSE) for 10⁵ steps"; batch 200 and the evaluation schedule come from the
authors' code. RULES states every field's bounds once; RunConfig, the CLI's flags (grokkit/__main__.py) and the
chapters' parameter checks (grokkit/sweep.py) are generated from it, and parse_value reads every parameter text.

Citations in grokkit's code: [DG §x / pN-M] is the paper (arXiv 2405.19454, v1), by section and by the paragraph
anchors of its arXiv HTML; [DG-code: file] is the authors' public code (repository Olivia-fsm/Deep-Grokking on
GitHub: mnist/grokking/train_mnist_mlp.py for the setup and the evaluation schedule, tunnel_methods.py for the
rank and the linear probes); [OG] is Omnigrok (Liu, Michaud, Tegmark, ICLR 2023), whose MNIST setup the paper
follows.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

DTYPES = ("float32", "float64")
DEVICES = ("auto", "cpu", "cuda")  # "cuda:N" is accepted too
MAX_DEPTH = 64        # documented bound: beyond it a clear error instead of a slow crawl
MAX_WIDTH = 8192
MNIST_TRAIN = 60_000  # size of the official training set
MNIST_TEST = 10_000   # size of the official test set
# the folder above the package: a clone when grokkit runs from one (editable install, PYTHONPATH); site-packages
# after `pip install`, which home() never uses
CHECKOUT = Path(__file__).resolve().parent.parent
MARKERS = ("_toc.yml", "book", "grokkit")  # what makes a folder a grokkit project (a clone of the repository)


def is_project(folder: Path) -> bool:
    """Whether `folder` is a grokkit project: a clone of the repository (it has _toc.yml, book/ and grokkit/)."""
    return all((Path(folder) / m).exists() for m in MARKERS)


def home() -> Path:
    """The project folder, whose results/, data/mnist and book/ grokkit reads (and whose results/ it writes):
    $GROKKIT_HOME (relative: to the current folder), else the first folder from the current one upwards that is a
    project (`is_project`), else the clone grokkit itself runs from (an editable install). An installed grokkit
    never uses site-packages. FileNotFoundError (one line, with the fix) when there is none."""
    value = os.environ.get("GROKKIT_HOME")
    if value:
        path = user_path(value, "GROKKIT_HOME", Path.cwd)
        if not path.is_dir():
            raise FileNotFoundError(f"GROKKIT_HOME={value}: {path} is not a folder; set it to your clone of the "
                                    f"grokkit repository")
        return path
    here = Path.cwd()
    for folder in (here, *here.parents):
        if is_project(folder):
            return folder
    if is_project(CHECKOUT):
        return CHECKOUT
    raise FileNotFoundError(f"no grokkit project folder: neither {here} nor a folder above it is a clone of the "
                            f"grokkit repository; cd into your clone or set GROKKIT_HOME=/path/to/clone "
                            f"(a command's --results DIR names a folder of records directly)")


def user_path(text, setting: str, base=Path.cwd) -> Path:
    """A path as a shell user writes it, absolute: `~` and `~user` expanded (also where no shell did it: a quoted
    value, a .env file, a kernel's environment), a relative one taken from base() (called only then). A `~user` of
    no user here is a one-line ValueError naming `setting`, never a folder literally named `~user`."""
    expanded = os.path.expanduser(str(text))
    if expanded.startswith("~"):
        raise ValueError(f"{setting}={text}: {expanded.split(os.sep)[0]} names no home folder here; give the "
                         f"folder's full path")
    path = Path(expanded)
    return path if path.is_absolute() else base() / path


def env_path(var: str) -> Path | None:
    """The folder named by environment variable `var`, absolute: `~` expanded (user_path); a relative one is taken
    from the project folder (`home`), so it is the same folder from the project's root and from book/, where the
    chapters run. None when unset. One that exists but is not a folder is a one-line ValueError naming `var` and
    what it resolved to."""
    value = os.environ.get(var)
    if not value:
        return None
    path = user_path(value, var, home)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{var}={value}: {path} is not a folder; set {var} to a folder")
    return path


@dataclass(frozen=True)
class RunConfig:
    depth: int = 12             # number of nn.Linear layers ("depth" in the paper: 4, 8, 12)
    width: int = 400            # "All the models have the same width (400)" [DG p2-1]
    alpha: float = 8.0          # "we scale the standard initialization ... by a scaling factor α" [DG p2-1]
    weight_decay: float = 0.01  # γ; AdamW's decoupled decay on all parameters (authors' code)
    lr: float = 1e-3            # "Adam optimizer (learning rate 1×10⁻³)" [DG p2-1]
    n_train: int = 5000         # the first N official training images (authors' code: Subset(range(N)))
    n_test: int = MNIST_TEST    # the test set: all 10k official test images (authors' code); fewer (the first
    #                             n_test) only for the smoke-scale stand-ins, whose evaluations are most of their cost
    batch_size: int = 200       # authors' code / Omnigrok App. A
    steps: int = 100_000        # "for 10⁵ steps" [DG p2-1]
    seed: int = 0               # the authors ran seed 0 only
    dtype: str = "float32"      # training dtype; the rank is always computed in float64 [DG p2-2]. The authors
    #                             train in float64; float32 is the default because its full-scale twin of d12 N=2000
    #                             keeps the behaviour (run_tables.dtype_table; the scoreboard chapter shows it)
    device: str = "auto"        # where it runs: not part of the run's identity
    # Evaluation schedule (the authors' code): log before the update at step s when s < 30,
    # or s < 150 and s % 10 == 0, or s % log_every == 0, where log_every = ceil(steps / 150). The authors take the
    # rank and the probes every 5 log points ("30 snapshots per run"); the shipped records take the rank at every
    # log point (a denser cadence that sharpens the timing claims; the paper's 3335 is a subset) and keep the
    # paper's probe cadence. 0 means exactly that schedule, scaled to `steps`, so RunConfig() finds them.
    log_every: int = 0          # 0 = the paper's ceil(steps / 150) = 667 at 1e5 steps
    rank_every: int = 0         # 0 = every log point (667 at 1e5 steps); the paper's own cadence is 3335
    probe_every: int = 0        # 0 = the paper's 5 * log_every (3335 at 1e5 steps); -1 = no linear probes
    probe_epochs: int = 30      # authors' LinearProbe: 30 epochs, batch 512, Adam lr 1e-3
    checkpoint_every: int = 5000  # resumable runs: atomic checkpoint every K steps (0 = never)
    # Interventions beyond the paper (issue 26, grokkit.interventions). At their defaults (LATER_DEFAULTS) they
    # are left out of identity() and name, so every record made before them keeps its id and name.
    norm_clamp: str | float = "none"  # "none"; "init": after every step, rescale all parameters (weights and biases)
    #                                   so that the total weight norm (metrics.weight_norms) equals its value at
    #                                   initialization; a number > 0: rescale to that norm at initialization and after
    #                                   every step
    rank_penalty: float = 0.0         # λ: strength of the rank penalty added to the MSE loss (0 = none)
    rank_penalty_kind: str = "none"   # "none"; "nuclear_over_frobenius": nuclear / Frobenius norm of the centred
    #                                   batch features (pushes the rank down); "neg_spectral_entropy": negative entropy
    #                                   of their covariance spectrum (holds the rank up); mean over the hidden layers
    rank_penalty_scale: str = "loss"  # "loss": λ x the penalty is added to the MSE loss, so its share of the loss
    #                                   grows as the MSE falls (~1e5-fold from step 1e4 to the test climb at α = 8);
    #                                   "gradient": each step the penalty's gradient is rescaled to λ x the norm of
    #                                   the MSE's gradient (a pull of fixed size relative to the fit's, all run long)
    # The second round (issue 44, grokkit.round_two): one-off interventions at a fixed step T, at the start of step T
    # (after the checkpoint of that step, before its update)
    scale_reset_step: int = 0         # T > 0: divide the output layer's weight and bias once by the output scale
    #                                   (metrics.output_scale) measured on `scale_reset_on`, so that it becomes 1 there
    scale_reset_on: str = "heldout"   # "heldout": MNIST training images HELDOUT (never trained on, never the test
    #                                   set); "train": the run's own n_train training images
    rank_cut_step: int = 0            # T > 0: replace each hidden layer's weight matrix (every Linear layer but the
    #                                   output layer) by its best rank-`rank_cut_rank` approximation (truncated SVD),
    #                                   rescaled to keep its Frobenius norm; biases untouched
    rank_cut_rank: int = 0            # r of the rank cut (1 .. width - 1)

    def __post_init__(self):
        for f in fields(self):  # 1e5 and 100_000 are one run, and so are 200 and 200.0: one id (coerce)
            object.__setattr__(self, f.name, coerce(f.name, getattr(self, f.name)))
        validate(self)

    # ---- derived schedule -------------------------------------------------------------
    @property
    def log_period(self) -> int:
        return self.log_every or math.ceil(self.steps / 150)

    @property
    def rank_period(self) -> int:
        return self.rank_every or self.log_period

    @property
    def probe_period(self) -> int:
        return 0 if self.probe_every < 0 else (self.probe_every or 5 * self.log_period)

    def is_log_step(self, s: int) -> bool:
        return s < 30 or (s < 150 and s % 10 == 0) or s % self.log_period == 0 or s == self.steps

    def is_rank_step(self, s: int) -> bool:
        return s % self.rank_period == 0 or s == self.steps

    def is_probe_step(self, s: int) -> bool:
        p = self.probe_period
        return p > 0 and (s % p == 0 or s == self.steps)

    # ---- identity ---------------------------------------------------------------------
    def identity(self) -> dict:
        """The fields that decide the result (device and checkpoint cadence do not), a new dict each call. Computed
        once per config (it is frozen) and kept beside its fields: record selection (records.seeds_of) asks for it
        hundreds of thousands of times while the claims are judged, and building it is most of that time."""
        d = self.__dict__.get("_identity")
        if d is None:
            d = {f.name: getattr(self, f.name) for f in fields(self)}  # asdict deep-copies: 4x slower
            d.pop("device")
            d.pop("checkpoint_every")
            d["log_every"], d["rank_every"] = self.log_period, self.rank_period
            d["probe_every"] = self.probe_period or -1  # resolved, so that equal schedules share one id
            for k, default in LATER_DEFAULTS.items():  # absent at the default: older records keep their ids
                if d[k] == default:
                    d.pop(k)
            object.__setattr__(self, "_identity", d)  # not a field: equality, hashing and replace() never see it
        return dict(d)

    @property
    def interventions(self) -> dict:
        """The intervention fields not at their default (issue 26): {} for every paper run."""
        return {k: getattr(self, k) for k, v in INTERVENTION_DEFAULTS.items() if getattr(self, k) != v}

    @property
    def id(self) -> str:
        blob = json.dumps(self.identity(), sort_keys=True)
        return hashlib.sha1(blob.encode()).hexdigest()[:10]

    @property
    def name(self) -> str:
        n = f"d{self.depth}_w{self.width}_n{self.n_train}_a{self.alpha:g}_wd{self.weight_decay:g}_s{self.seed}"
        if self.dtype != "float32":
            n += "_f64"
        if self.steps != 100_000:
            n += f"_t{self.steps}"
        if self.n_test != MNIST_TEST:
            n += f"_test{self.n_test}"
        if self.norm_clamp != "none":
            n += "_norminit" if self.norm_clamp == "init" else f"_norm{self.norm_clamp:g}"
        if self.rank_penalty_kind != "none":
            n += f"_{PENALTY_TAGS[self.rank_penalty_kind]}{self.rank_penalty:g}"
            n += "grad" if self.rank_penalty_scale == "gradient" else ""
        if self.scale_reset_step:
            n += f"_reset{self.scale_reset_step}" + ("train" if self.scale_reset_on == "train" else "")
        if self.rank_cut_step:
            n += f"_cut{self.rank_cut_rank}at{self.rank_cut_step}"
        return n

    def replace(self, **kw) -> RunConfig:
        unknown = sorted(set(kw) - {f.name for f in fields(self)})
        if unknown:  # a typo (e.g. a papermill parameter) must not pass as a TypeError deep in a notebook
            raise ValueError(f"RunConfig: unknown field(s) {unknown}; allowed: {sorted(f.name for f in fields(self))}")
        return replace(self, **kw)

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"RunConfig: unknown field(s) {unknown}; allowed: {sorted(known)}")
        return cls(**d)


# ---- the bounds of every field, stated once: RunConfig, the CLI flags and the chapters' parameters use them --------
INTERVENTION_DEFAULTS = {"norm_clamp": "none", "rank_penalty": 0.0, "rank_penalty_kind": "none",
                         "rank_penalty_scale": "loss", "scale_reset_step": 0, "scale_reset_on": "heldout",
                         "rank_cut_step": 0, "rank_cut_rank": 0}
HELDOUT = (55_000, 60_000)  # MNIST training images [first, last) a scale reset may measure on: beyond every N used
SCALE_RESET_ON = ("heldout", "train")
LATER_DEFAULTS = {"n_test": MNIST_TEST, **INTERVENTION_DEFAULTS}  # fields added after the first records: absent from
#                                                                  identity() at these defaults (the ids do not move)
PENALTIES = ("none", "nuclear_over_frobenius", "neg_spectral_entropy")
PENALTY_TAGS = {"nuclear_over_frobenius": "rankdown", "neg_spectral_entropy": "rankup"}  # in the record's name
PENALTY_SCALES = ("loss", "gradient")


@dataclass(frozen=True)
class Rule:
    kind: type                # int, float or str
    help: str
    lo: float | None = None   # bounds (inclusive, unless lo_open)
    hi: float | None = None
    lo_open: bool = False
    choices: tuple = ()       # for str fields
    number: bool = False      # a str field that also takes a number within lo/hi (norm_clamp)


RULES = {
    "depth": Rule(int, "number of Linear layers (paper: 4, 8, 12)", 2, MAX_DEPTH),  # input and output layers at least
    "width": Rule(int, "hidden width (paper: 400); at least 2: a layer's feature rank needs two units", 2,
                  MAX_WIDTH),
    "alpha": Rule(float, "initialization scale: every parameter x alpha (paper: 8)", 0.0, lo_open=True),
    "weight_decay": Rule(float, "AdamW's decoupled weight decay (paper: 0.005, 0.01, 0.05)", 0.0),
    "lr": Rule(float, "AdamW learning rate (paper: 1e-3)", 0.0, lo_open=True),
    "n_train": Rule(int, "the first N MNIST training images (paper: 2000, 5000, 7000)", 1, MNIST_TRAIN),
    "n_test": Rule(int, "the first N MNIST test images the run is evaluated on (paper: all 10000); at least 2: "
                        "the feature rank is read on them", 2, MNIST_TEST),
    "batch_size": Rule(int, "batch size (authors' code: 200; above n_train, every step is one batch of all n_train "
                            "images, as the authors' DataLoader does)", 1),
    "steps": Rule(int, "training steps (paper: 1e5)", 1),
    "seed": Rule(int, "seed of the init and the batch order", 0, 2**31 - 1),
    "dtype": Rule(str, "training dtype; the rank is always computed in float64", choices=DTYPES),
    "device": Rule(str, "where it runs (not part of the record's identity)", choices=(*DEVICES, "cuda:N")),
    "log_every": Rule(int, "evaluation cadence; 0 = the paper's ceil(steps/150)", 0),
    "rank_every": Rule(int, "rank cadence; 0 = every log point (the shipped records'); 3335 = the paper's", 0),
    "probe_every": Rule(int, "linear-probe cadence; 0 = the paper's 5 x log_every; -1 = no probes", -1),
    "probe_epochs": Rule(int, "epochs of each linear probe (authors: 30)", 1),
    "checkpoint_every": Rule(int, "checkpoint every K steps (0 = never; not part of the record's identity)", 0),
    "norm_clamp": Rule(str, "hold the total weight norm: none; init = its value at initialization; or a fixed norm "
                            "(the interventions chapter)", 0.0, lo_open=True, choices=("none", "init"), number=True),
    "rank_penalty": Rule(float, "strength of the rank penalty added to the MSE loss (the interventions chapter; "
                                "0 = none)", 0.0),
    "rank_penalty_kind": Rule(str, "the rank penalty: nuclear_over_frobenius pushes the hidden layers' batch-feature "
                                   "rank down, neg_spectral_entropy holds it up (the interventions chapter)",
                              choices=PENALTIES),
    "rank_penalty_scale": Rule(str, "how the rank penalty's strength is read: loss = λ x the penalty added to the "
                                    "MSE loss; gradient = the penalty's gradient rescaled every step to λ x the norm "
                                    "of the MSE's gradient", choices=PENALTY_SCALES),
    "scale_reset_step": Rule(int, "at this step, divide the output layer once by the output scale so that it is 1 "
                                  "(0 = never; the second round of interventions)", 0),
    "scale_reset_on": Rule(str, "the images a scale reset measures the output scale on: heldout (MNIST training "
                                "images 55,000-59,999) or train (the run's own training images)",
                           choices=SCALE_RESET_ON),
    "rank_cut_step": Rule(int, "at this step, cut every hidden layer's weight matrix to rank rank_cut_rank, keeping "
                               "its Frobenius norm (0 = never; the second round of interventions)", 0),
    "rank_cut_rank": Rule(int, "the rank of the rank cut (1 .. width - 1)", 0),
}


def describe(name: str, many: bool = False) -> str:
    """What `name` allows, in words: 'an integer in 2..64', 'numbers (one or a list) >= 0', 'one of ...'."""
    r = RULES[name]
    if r.kind is str:
        return f"one of {', '.join(r.choices)}" + (f", or a number {'>' if r.lo_open else '>='} {r.lo:g}"
                                                   if r.number else "")
    what = {int: "integer", float: "number"}[r.kind]
    what = f"{what}s (one or a list)" if many else ("an " if what[0] == "i" else "a ") + what
    if r.hi is not None:
        return f"{what} in {r.lo}..{r.hi}"
    return f"{what} {'>' if r.lo_open else '>='} {r.lo:g}"


def coerce(name: str, v):
    """`v` as field `name` holds it: a float that is exactly an integer (1e5, 100000.0: the paper writes 10⁵) for an
    integer field becomes that int; an int for a number field (or norm_clamp) becomes a float, so that 200 and 200.0
    are one run with one id. Anything else is returned as it is, for `check` to accept or refuse."""
    r = RULES[name]
    if isinstance(v, bool):
        return v
    if r.kind is int and isinstance(v, float) and v.is_integer():
        return int(v)
    if (r.kind is float or r.number) and isinstance(v, int):
        return float(v)
    return v


def checked(name: str, v):
    """`v` coerced to field `name`'s kind (`coerce`) and checked (`check`): what an entry point stores."""
    v = coerce(name, v)
    check(name, v)
    return v


def check(name: str, v) -> None:
    """The one check of a field's value: a one-line ValueError naming the field and what is allowed. An integer field
    takes a float that is exactly an integer (1e5; `coerce` makes it the int)."""
    r = RULES[name]
    v = coerce(name, v)
    if r.kind is str and r.number and isinstance(v, (int, float)) and not isinstance(v, bool):
        if not math.isfinite(v) or v < r.lo or (r.lo_open and v == r.lo):
            raise ValueError(f"{name}: must be {describe(name)}, got {v!r}")
        return
    if r.kind is str:
        ok = isinstance(v, str) and (v in r.choices or ("cuda:N" in r.choices and v.startswith("cuda:")
                                                         and v[5:].isdigit()))
        if not ok:
            raise ValueError(f"{name}: must be {describe(name)}, got {v!r}")
        return
    if isinstance(v, bool) or not isinstance(v, int if r.kind is int else (int, float)):
        raise ValueError(f"{name}: must be {'an integer' if r.kind is int else 'a number'}, got {v!r} "
                         f"({type(v).__name__})")
    if r.kind is float:
        if not math.isfinite(v) or v < r.lo or (r.lo_open and v == r.lo):
            raise ValueError(f"{name}: must be a finite number {'>' if r.lo_open else '>='} {r.lo:g}, got {v!r}")
    elif v < r.lo or (r.hi is not None and v > r.hi):
        raise ValueError(f"{name}: must be {f'>= {r.lo}' if r.hi is None else f'in {r.lo}..{r.hi}'}, got {v}")


def validate(cfg: RunConfig) -> None:
    """Every field against RULES, in field order; the first bad one raises (one line, naming it)."""
    for f in fields(cfg):
        check(f.name, getattr(cfg, f.name))
    if cfg.rank_penalty > 0 and cfg.rank_penalty_kind == "none":
        raise ValueError(f"rank_penalty: a strength > 0 needs a rank_penalty_kind ({', '.join(PENALTIES[1:])}), "
                         f"got rank_penalty={cfg.rank_penalty:g} with rank_penalty_kind='none'")
    if cfg.rank_penalty_kind != "none" and cfg.rank_penalty == 0:
        raise ValueError(f"rank_penalty_kind: {cfg.rank_penalty_kind!r} needs rank_penalty > 0, got 0")
    for step_field, more in (("scale_reset_step", ()), ("rank_cut_step", ("rank_cut_rank",))):
        at = getattr(cfg, step_field)
        if at >= cfg.steps:
            raise ValueError(f"{step_field}: must be below steps ({cfg.steps}), got {at}")
        if at == 0 and any(getattr(cfg, f) != INTERVENTION_DEFAULTS[f] for f in more):
            raise ValueError(f"{more[0]}: needs {step_field} > 0, got {step_field}=0")
    if cfg.scale_reset_step == 0 and cfg.scale_reset_on != "heldout":
        raise ValueError(f"scale_reset_on: {cfg.scale_reset_on!r} needs scale_reset_step > 0, got 0")
    if cfg.rank_cut_step and not 1 <= cfg.rank_cut_rank < cfg.width:
        raise ValueError(f"rank_cut_rank: must be in 1..{cfg.width - 1} (below the width), got {cfg.rank_cut_rank}")
    if cfg.rank_penalty_scale != "loss" and cfg.rank_penalty_kind == "none":
        raise ValueError(f"rank_penalty_scale: {cfg.rank_penalty_scale!r} needs a rank_penalty_kind "
                         f"({', '.join(PENALTIES[1:])}), got rank_penalty_kind='none'")


def parse_value(v):
    """The one parser of parameter text, for every entry point (CLI flags, `sweep --grid/--param`, papermill
    -p/-y/-f): '12' -> 12, '5e-3' -> 0.005, 'nan' -> nan, 'True' -> True, '4,8,12' or '[4, 8, 12]' -> [4, 8, 12];
    lists are parsed item by item (PyYAML reads 5e-3 inside a list as the string '5e-3'). Other text is returned
    as it is ('cpu', 'cuda:0'); values that are not text pass through."""
    if isinstance(v, (list, tuple)):
        return [parse_value(x) for x in v]
    if not isinstance(v, str):
        return v
    s = v.strip()
    if s and (s[0] in "[(" or ("," in s and s[0] not in "'\"")):
        inner = s[1:-1] if s[:1] in "[(" and s[-1:] in "])" else s
        return [parse_value(x) for x in inner.split(",") if x.strip()]
    for conv in (int, float):
        try:
            return conv(s)  # int('100_000') and float('1e5') are Python's own literals
        except ValueError:
            pass
    if s in ("True", "False"):
        return s == "True"
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return v


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when a GPU is visible, else 'cpu'; asking for CUDA without one is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} asked for, but no CUDA GPU is available here; use 'cpu' or 'auto'")
    return device


# The fields a run's label already names (grokkit.events.config_label) or its intervention words describe.
LABELLED = ("depth", "n_train", "weight_decay", "seed", "dtype", "alpha", *INTERVENTION_DEFAULTS)


def off_paper(c: dict) -> dict[str, tuple]:
    """Where an identity dict (RunConfig.identity(), or a record's stands_for_config) differs from the paper's setup
    (RunConfig's defaults) with the same depth, N, γ, dtype, α, seed, interventions and steps, leaving out the fields
    the label already names (LABELLED) and `steps` itself: {field: (its value, the paper's)}, {} for a paper run. A
    schedule left at its default resolves from the run's own steps, so a shorter run differs only in `steps`, which
    the caller reads from `c`."""
    own = {**LATER_DEFAULTS, **c}
    paper = {**LATER_DEFAULTS, **RunConfig(**{k: own[k] for k in (*LABELLED, "steps")}).identity()}
    return {k: (own.get(k), paper.get(k)) for k in paper.keys() | own.keys()
            if k not in LABELLED and k != "steps" and own.get(k) != paper.get(k)}


def smoke() -> bool:
    """GROKKIT_SMOKE=1: chapters and tests shrink every config (see smoke_config)."""
    return os.environ.get("GROKKIT_SMOKE", "") not in ("", "0")


SMOKE_TEST = 2000  # test images a smoke-scale stand-in is evaluated on (smoke_config)


def smoke_config(cfg: RunConfig) -> RunConfig:
    """A tiny stand-in with the same depth, weight decay and seed: seconds on a CPU. A stand-in is never a result,
    only the shape of one, so its schedule is coarse: every step below 30, then every 10 steps (58 evaluations of
    its 300), and the rank with the probes every 5 log points, the paper's cadence (7 snapshots). Those
    evaluations and snapshots, not its training steps, are what a stand-in costs, so it is evaluated on the first
    SMOKE_TEST test images (about a quarter of the CPU time the 10k cost). A mid-run intervention (a scale reset, a
    rank cut) comes at the same fraction of the run, a rank cut keeps the same share of the width."""
    width, steps = min(cfg.width, 32), min(cfg.steps, 300)

    def at(step: int) -> int:  # a mid-run intervention's step, at the same fraction of the shorter run
        return max(1, round(step * steps / cfg.steps)) if step else 0

    small = cfg.replace(width=width, n_train=min(cfg.n_train, 400), n_test=min(cfg.n_test, SMOKE_TEST),
                        batch_size=min(cfg.batch_size, 100), steps=steps, log_every=10, rank_every=0,
                        probe_every=0, probe_epochs=2, checkpoint_every=0, scale_reset_step=at(cfg.scale_reset_step),
                        rank_cut_step=at(cfg.rank_cut_step),  # the cut's rank: the same share of the width
                        rank_cut_rank=max(1, round(cfg.rank_cut_rank * width / cfg.width)) if cfg.rank_cut_rank else 0)
    return small.replace(rank_every=small.probe_period)


# ---- the paper's constants, read by the results layer (events, claims, report) --------------------------------
DEPTHS = (4, 8, 12)            # "d=4,8,12" [DG p3-7]
FULL_STEPS, FULL_WIDTH = 100_000, 400  # full scale: "10⁵ steps", "width (400)" [DG p2-1]
TUNNEL_THRESHOLD = 300         # "We consider the layer with output feature rank lower than 300 as a tunnel layer"
#                                [DG Fig 3/4 captions]
PAPER_TUNNEL = {5000: {4: 1, 8: 3, 12: 6}, 7000: {4: 1, 8: 5, 12: 6}}  # tunnel lengths [DG Fig 3, Fig 4 captions]
CONST_MSE = 0.09               # MSE of a constant predictor on one-hot targets of 10 balanced classes:
#                                0.1·0.9² + 0.9·0.1²

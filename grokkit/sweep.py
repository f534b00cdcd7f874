"""Grids of configs: the paper's full-scale grid, run in priority order, skipping finished records.

`run_grid` splits the missing runs of a grid into fixed shards, one per job, and submits them to any executor
(`python -m grokkit sweep paper --executor local|slurm`: submitit's local processes or a SLURM job array); no
locks are shared between machines, records are written atomically, a rerun skips what exists, and a
preempted job is requeued and resumes from its checkpoint. `sweep_status` lists pending, running, done and
failed runs; `load_or_train_many` trains several runs at once (batched on a GPU).

The book's side: `chapter_run` (the record a chapter shows, or a labelled smoke-scale stand-in),
`check_params` (papermill parameters of a chapter) and `run_chapter` (a chapter executed over a grid).
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

from .config import RunConfig
from .folders import writable
from .records import RecordError, Run, load, record_path, results_folder

# The paper's grid: width 400, α = 8, lr 1e-3, batch 200, 1e5 steps, and the records' evaluation schedule (rank at
# every log point, probes at the paper's 3335 steps): RunConfig's defaults, the one definition of the paper's run.
PAPER_BASE = RunConfig()


def paper_grid() -> list[RunConfig]:
    """Ordered by what the claims need first: Fig 2a-c, Fig 2d-f, Fig 1a and its float64 twin (the dtype decision
    of the speed issue), the d=12 weight-decay phases (claims 11-13), the seed bands at every depth (is the d=12
    N=7000 run's long stretch at a constant predictor one seed's accident?), the explorer's d=8/4 weight-decay runs,
    then a second seed of claim 5's runs (is the rank descent's lag the seed's or the setup's?). The thin verdicts
    come next: a float64 twin of the d=12 N=7000 seed that sat at a constant predictor (is that collapse a float32
    artifact?), three seeds at every depth at N=5000 (claims 1, 2, 9), a fourth d=12 N=7000 seed (how often does
    the collapse happen?), a second seed of the d=12 weight-decay phases (claims 11-13), and float64 twins of the
    four phase runs away from γ = 0.01 (do the phases differ from the paper's in its own dtype too?), then a second
    float64 seed where a dtype effect outlasts the float32 seed spread (grokkit.twins)."""
    b = PAPER_BASE
    grid = [b.replace(depth=d, n_train=5000) for d in (12, 8, 4)]                               # Fig 2a-c, 3
    grid += [b.replace(depth=d, n_train=7000) for d in (12, 8, 4)]                              # Fig 2d-f, 4, 1c, 5
    grid += [b.replace(depth=12, n_train=2000, dtype=dt) for dt in ("float32", "float64")]      # Fig 1a, 6; dtype pair
    grid += [b.replace(depth=12, n_train=2000, weight_decay=wd) for wd in (0.005, 0.05)]         # Fig 6
    grid += [b.replace(depth=12, n_train=5000, weight_decay=wd) for wd in (0.005, 0.05)]         # Fig 7 (claim 12)
    grid += [b.replace(depth=d, n_train=7000, seed=s) for s in (1, 2) for d in (4, 8, 12)]       # seed bands
    grid += [b.replace(depth=d, n_train=5000, weight_decay=wd) for wd in (0.005, 0.05) for d in (8, 4)]  # Fig 7
    grid += [b.replace(depth=12, n_train=n, seed=1) for n in (2000, 5000)]                     # claim 5 on seed 1
    grid += [b.replace(depth=12, n_train=7000, dtype="float64")]                               # the collapse in f64?
    grid += [b.replace(depth=d, n_train=5000, seed=s) for d in (4, 8) for s in (1, 2)]         # Fig 2a-c, 3 seeds
    grid += [b.replace(depth=12, n_train=5000, seed=2), b.replace(depth=12, n_train=7000, seed=3)]
    grid += [b.replace(depth=12, n_train=n, weight_decay=wd, seed=1) for n in (2000, 5000) for wd in (0.005, 0.05)]
    # float64 twins of the weight-decay phase runs (seed 0): is "the phases differ from the paper" about the claim
    # or about our dtype? The authors train in float64 (claims 11-13)
    grid += [b.replace(depth=12, n_train=n, weight_decay=wd, dtype="float64")
             for n, wd in ((5000, 0.05), (5000, 0.005), (2000, 0.005), (2000, 0.05))]
    # a second float64 seed where a dtype effect is still claimed once read against the float32 seed spread
    # (grokkit.twins; issue 42): N = 5000, γ = 0.05 (a phase no float32 seed takes), N = 7000, γ = 0.01 (asked for
    # before that reading), N = 2000, γ = 0.05 (test-accuracy distance 1.14 x the seeds')
    grid += [b.replace(depth=12, n_train=n, weight_decay=wd, dtype="float64", seed=1)
             for n, wd in ((5000, 0.05), (7000, 0.01), (2000, 0.05))]
    return grid


# ---- beyond the paper: the interventions (issue 26, grokkit.interventions, book/interventions.ipynb) ----------------
# Base: d = 12, N = 5000, γ = 0.01, float32, 1e5 steps and PAPER_BASE's schedule; its shipped seeds are the control.
INTERVENTION_BASE = PAPER_BASE.replace(depth=12, n_train=5000, weight_decay=0.01)
CONTROL_SEEDS = (0, 1, 2)          # the control: the base's three recorded seeds (paper_grid)
INTERVENTION_SEEDS = (0, 1)        # each intervention on seeds 0 and 1 (issue 26)
# The penalty strengths λ of the full-scale runs are set by the pilots (issue 26, pilot_grid): the strength that
# measurably moves the rank within the first 10k steps without breaking training. A test checks each literal equals
# pilots.full_scale_strength on the shipped second-round pilots (the rule's pick, as amended, or the declared
# fallback's) once that pick is decided; until then it is a placeholder.
RANK_DOWN_STRENGTH = 0.03          # nuclear_over_frobenius: the second round's pick (pilot at 0.03: effective rank
#                                    -67 %, train MSE 0.23 x the reference's; 0.01: -9.8 %, read as breaking)
RANK_UP_STRENGTH = 0.03            # neg_spectral_entropy: by two declared deviations from the rule
#                                    (pilots.full_scale_strength): its pick as committed, 1, collapsed to a
#                                    near-constant output (train MSE 0.135 at chance accuracy); amended, the rule picks
#                                    none; the fallback (2 x bound) picks 0.03 (+20 % rank, train MSE 1.30 x)
# The first round of pilots added λ x the penalty to the loss (rank_penalty_scale "loss"): at λ = 0.01..1 neither
# penalty moved the hidden layers' effective rank by even 1 % in 10k steps, where the train MSE is still in the
# thousands; by the control's test climb it is ~1e5 times smaller, so the same λ's share of the loss is ~1e5 times
# larger there (the interventions chapter, Pilots). The full-scale penalised runs therefore use the "gradient" scale
# (decided after the first round's λ = 0.01, 0.1 and 1, before its 10 and 100 and before any pilot of the second
# round): each step the penalty pulls with λ x the norm of the fit's gradient, the same at step 1e4 as at the climb,
# and the second round of pilots (pilot_grid("gradient")) chooses λ by the same rule, over pulls of 1 % to 100 % of
# the fit's.
RANK_PENALTY_SCALE = "gradient"
SECOND_ROUND_AFTER = (0.01, 0.1, 1.0)  # the first round's strengths recorded when the second round was decided
PILOT_STRENGTHS_GRADIENT = (0.01, 0.03, 0.1, 0.3, 1.0)  # the second round's candidates: pull / the fit's pull
PILOT_STEPS = 10_000               # "within the first 10k steps" (issue 26)
PILOT_EVERY = 500                  # a pilot evaluates and takes the rank every 500 steps, without probes: the
#                                    schedule scaled to 10k steps (every 67 steps, probes every 335) would cost as much
#                                    evaluation as a full run, and the rule reads only the last 2,000 steps' ranks
PILOT_STRENGTHS = (0.01, 0.1, 1.0, 10.0, 100.0)  # candidates for each penalty, seed 0


def control_norm_at_onset(results_dir=None) -> float:
    """The fixed norm of the second intervention ("norm held low from the start"): the control's total weight norm
    (metrics.weight_norms: weights and biases) at its start of the test climb (events.climb_onset_step, claims'
    default detector), the median over the control's seeds CONTROL_SEEDS, read from their records in `results_dir`
    (default records.results_folder()); rounded to 4 significant digits, so that the config and its name state it
    exactly. ValueError naming the seed when a control record is missing or has no test climb."""
    def norm(run, step):
        return float(run.history["weight_norm"][_at(run.history["step"], step)])
    return float(f"{_control_at_onset(results_dir, norm):.4g}")


def intervention_configs(seed: int, steps: int = 100_000, device: str = "auto", results_dir=None) -> dict:
    """The four interventions of one seed: {grokkit.interventions key: RunConfig}, in the chapter's order."""
    b = INTERVENTION_BASE.replace(seed=seed, steps=steps, device=device)
    return {"norm_init": b.replace(norm_clamp="init"),
            "norm_low": b.replace(norm_clamp=control_norm_at_onset(results_dir)),
            "rank_down": b.replace(rank_penalty=RANK_DOWN_STRENGTH, rank_penalty_kind="nuclear_over_frobenius",
                                   rank_penalty_scale=RANK_PENALTY_SCALE),
            "rank_up": b.replace(rank_penalty=RANK_UP_STRENGTH, rank_penalty_kind="neg_spectral_entropy",
                                 rank_penalty_scale=RANK_PENALTY_SCALE)}


def interventions_grid(seeds=INTERVENTION_SEEDS, steps: int = 100_000, device: str = "auto",
                       results_dir=None) -> list[RunConfig]:
    """The eight full-scale intervention runs (issue 26): the four interventions of `intervention_configs` on each of
    `seeds`, seed 0's four first. `python -m grokkit sweep interventions` trains them (one process per core)."""
    return [c for s in seeds for c in intervention_configs(s, steps, device, results_dir).values()]


def pilot_grid(scale: str = "loss") -> list[RunConfig]:
    """The pilots that choose the penalty strengths (issue 26): PILOT_STEPS-step runs of the intervention base on seed
    0 (evaluated and ranked every PILOT_EVERY steps, no probes), each penalty at every strength of its round, and the
    same run without a penalty as their reference (one run, shared by both rounds). `scale` picks the round: "loss"
    (the first: λ x the penalty added to the loss, PILOT_STRENGTHS) or "gradient" (the second: a pull of λ x the
    fit's, PILOT_STRENGTHS_GRADIENT). `python -m grokkit sweep pilots` / `sweep pilots_gradient` train them."""
    if scale not in ("loss", "gradient"):
        raise ValueError(f"scale: must be one of loss, gradient, got {scale!r}")
    b = INTERVENTION_BASE.replace(steps=PILOT_STEPS, seed=0, log_every=PILOT_EVERY, rank_every=PILOT_EVERY,
                                  probe_every=-1)
    lams = PILOT_STRENGTHS if scale == "loss" else PILOT_STRENGTHS_GRADIENT
    return [b] + [b.replace(rank_penalty=lam, rank_penalty_kind=kind, rank_penalty_scale=scale)
                  for kind in ("nuclear_over_frobenius", "neg_spectral_entropy") for lam in lams]


def pilot_grid_gradient() -> list[RunConfig]:
    """The second round of pilots: pilot_grid("gradient")."""
    return pilot_grid("gradient")


# ---- beyond the paper, second round (issue 44, grokkit.round_two): what starts the climb? -------------------------
RESET_STEPS = (10_000, 25_000)     # the output-scale resets (the control climbs at 42,688-44,022)
RANK_CUT_STEP = 25_000


def control_rank_at_onset(results_dir=None) -> int:
    """r of the rank cut: the control's tolerance-robust mean hidden-layer rank at its start of the test climb (the
    snapshot at or after it), the median over CONTROL_SEEDS, rounded to an integer. ValueError as
    control_norm_at_onset."""
    from .events import hidden_mean

    def robust(run, step):
        return float(hidden_mean(run.history["robust_rank"][_at(run.history["rank_step"], step)][None])[0])
    return round(_control_at_onset(results_dir, robust))


def started_low_alpha(results_dir=None) -> float:
    """α of "started low, free": 8 x the first round's held-low norm (control_norm_at_onset) / the total weight norm
    of the α = 8 initialization (seed 0; 307.2), to 4 significant digits -- every parameter scaled so that the
    network starts at the norm the first round held it at."""
    from .penalties import clamp_target

    init = clamp_target(INTERVENTION_BASE.replace(norm_clamp="init"))
    return float(f"{INTERVENTION_BASE.alpha * control_norm_at_onset(results_dir) / init:.4g}")


def _at(steps, step) -> int:
    import numpy as np

    return int(np.searchsorted(np.asarray(steps), step))


def _control_at_onset(results_dir, read) -> float:
    """The median over the control's seeds of read(run, its start of the test climb)."""
    import numpy as np

    from .claims import detector
    from .events import events

    values = []
    for seed in CONTROL_SEEDS:
        c = INTERVENTION_BASE.replace(seed=seed)
        path = record_path(c, results_dir)
        if not path.exists():
            raise ValueError(f"control: no record of the control {c.name} in {path.parent}")
        run = load(path, c)
        onset = events(run, detector()).climb_onset_step
        if onset is None:
            raise ValueError(f"control: the control {c.name} has no test climb")
        values.append(read(run, onset))
    return float(np.median(values))


def round_two_configs(seed: int, steps: int = 100_000, device: str = "auto", results_dir=None) -> dict:
    """The five interventions of the second round on one seed: {grokkit.round_two key: RunConfig}."""
    b = INTERVENTION_BASE.replace(seed=seed, steps=steps, device=device)
    return {"reset_heldout_10k": b.replace(scale_reset_step=RESET_STEPS[0]),
            "reset_heldout_25k": b.replace(scale_reset_step=RESET_STEPS[1]),
            "reset_train_10k": b.replace(scale_reset_step=RESET_STEPS[0], scale_reset_on="train"),
            "started_low": b.replace(alpha=started_low_alpha(results_dir)),
            "rank_cut": b.replace(rank_cut_step=RANK_CUT_STEP, rank_cut_rank=control_rank_at_onset(results_dir))}


def round_two_grid(seeds=(0, 1), steps: int = 100_000, device: str = "auto", results_dir=None) -> list[RunConfig]:
    """The ten full-scale runs of the second round (issue 44) in the order of priority: each intervention on both
    seeds, the resets on unseen images first, then the reset on the training images, the low start, the rank cut.
    `python -m grokkit sweep round_two` trains them (one process per core)."""
    per_seed = [round_two_configs(s, steps, device, results_dir) for s in seeds]
    return [cs[k] for k in per_seed[0] for cs in per_seed]


GRIDS = {"paper": paper_grid, "interventions": interventions_grid, "pilots": pilot_grid,
         "pilots_gradient": pilot_grid_gradient, "round_two": round_two_grid}


def missing(configs, results_dir=None) -> list[RunConfig]:
    return [c for c in configs if not record_path(c, results_dir).exists()]


# ---- running a grid: fixed shards on any executor (local processes, SLURM through submitit, Ray, Dask) -------
# The missing runs are split by index into fixed shards, one per job, so no two jobs ever hold the same run and
# no lock is shared across machines. Records are written atomically (records.save), so a rerun skips what
# exists; a preempted job is requeued (SweepJob.checkpoint) and resumes each run from its last checkpoint.
# A sweep's folder (default logs/sweep_<grid>) keeps: jobs/<job id>/ (submitit's per-job logs),
# submissions.jsonl (one line per job: its id, executor and runs) and runs/<name>-<id>.json (the state of
# each run a job has started: running, done or failed, with the job, host and pid), which `sweep_status` reads.
JOB_DONE_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL",
                   "DEADLINE", "PREEMPTED", "FINISHED", "INTERRUPTED"}  # slurm's terminal states, submitit's local ones


def shard(configs, runs_per_job: int, by_batch: bool = True) -> list[list[RunConfig]]:
    """Fixed shards of at most `runs_per_job` configs, by index in the given order. by_batch: never mix runs
    that cannot share a batch (batched.batch_key: depth, dtype, ...), so a GPU job trains its shard as one
    batch; without it (CPU jobs train their runs one after another) exactly ceil(len / runs_per_job) shards."""
    from .batched import group_batches

    if isinstance(runs_per_job, bool) or not isinstance(runs_per_job, int) or runs_per_job < 1:
        raise ValueError(f"runs_per_job: must be an integer >= 1, got {runs_per_job!r}")
    groups = group_batches(configs) if by_batch else [list(configs)]
    return [g[i:i + runs_per_job] for g in groups for i in range(0, len(g), runs_per_job)]


def _run_file(sweep_dir, config: RunConfig) -> Path:
    return Path(sweep_dir) / "runs" / f"{config.name}-{config.id}.json"


def _mark(sweep_dir, configs, state: str, **info) -> None:
    """Write each run's state file (atomically): state, this job's id, host, pid, time, and `info`."""
    if sweep_dir is None:
        return
    import json
    import socket
    import time

    from .records import atomic_write

    job_id = os.environ.get("SLURM_ARRAY_JOB_ID") and (
        f"{os.environ['SLURM_ARRAY_JOB_ID']}_{os.environ.get('SLURM_ARRAY_TASK_ID')}")
    job_id = job_id or os.environ.get("SLURM_JOB_ID") or os.environ.get("SUBMITIT_LOCAL_JOB_ID")
    for c in configs:
        blob = json.dumps({"state": state, "job_id": job_id, "host": socket.gethostname(), "pid": os.getpid(),
                           "time": time.time(), **info}).encode()
        atomic_write(_run_file(sweep_dir, c), lambda f, blob=blob: f.write(blob))


def load_or_train_many(configs, results_dir=None, progress: bool = True, cuda_graph: bool = False,
                       sweep_dir=None, batch: bool | None = None) -> list[Run]:
    """The runs of `configs`, in order: loaded where a record exists, else trained and saved. On a GPU the
    missing runs that can share a batch (batched.batch_key: same depth, width, dtype, steps ...) train together
    with batched.train_batched (cuda_graph: its self-tested CUDA-graph step; the batch checkpointed as a whole in
    <results_dir>/.checkpoints/batch-d<depth>-<batch_id>.pt); on a CPU one after another (train.train_and_save);
    both checkpoint every config.checkpoint_every steps and resume. A chapter that needs
    several missing runs of one depth calls this. Takes no lock (see run_grid); a run that fails is marked
    failed in `sweep_dir` and the others still train; the first error is raised at the end. batch: True/False
    forces batching on or off (default: batch on a GPU only; on a CPU batching gains nothing, see README)."""
    results_dir = results_folder(results_dir)
    from .batched import batch_id, group_batches, train_batched
    from .config import resolve_device
    from .records import ForeignRecord, check_replaceable, save
    from .train import train_and_save

    runs, todo = {}, []
    for c in configs:
        path = record_path(c, results_dir)
        if path.exists():
            try:
                runs[c] = load(path, c)
                continue
            except ForeignRecord:
                raise  # not this user's to replace: stop before any training (on a GPU, before the batch trains)
            except RecordError as e:
                check_replaceable(path, c)  # another user's damaged record raises ForeignRecord
                print(f"grokkit: {e}; retraining")
        todo.append(c)
    if todo:  # before any training: the record, checkpoints and state files have somewhere to go
        _writable(results_dir, todo, sweep_dir)
    errors = []
    for group in group_batches(todo):
        batched = len(group) > 1 and (resolve_device(group[0].device).startswith("cuda") if batch is None else batch)
        batched = batched and not any(c.interventions for c in group)  # train_batched refuses them: one by one
        for part in [group] if batched else [[c] for c in group]:
            _mark(sweep_dir, part, "running", batched=len(part))
            try:
                if batched:
                    ckpt = Path(results_dir) / ".checkpoints" / f"batch-d{part[0].depth}-{batch_id(part)}.pt"
                    for run in train_batched(part, progress=progress, cuda_graph=cuda_graph, checkpoint_path=ckpt):
                        save(run, results_dir)
                        runs[run.config] = run
                    with contextlib.suppress(FileNotFoundError, PermissionError):  # another user's: left, unread
                        ckpt.unlink()
                else:
                    runs[part[0]] = train_and_save(part[0], results_dir, progress)
                _mark(sweep_dir, part, "done")
            except Exception as e:  # noqa: BLE001 -- recorded, the shard's other runs go on
                _mark(sweep_dir, part, "failed", error=f"{type(e).__name__}: {e}".splitlines()[0])
                errors.append(e)
    if errors:
        raise errors[0]
    return [runs[c] for c in configs]


def _writable(results_dir, configs, sweep_dir=None) -> None:
    """Before training or submitting `configs`: their results folder (and its .checkpoints) and the sweep's folder
    take new files, else one OSError line naming the folder and its setting (folders.writable)."""
    from .folders import results_writable

    results_writable(results_dir, checkpoints=any(c.checkpoint_every for c in configs))
    if sweep_dir is not None:  # submissions.jsonl, runs/<name>-<id>.json
        writable(sweep_dir, "--logs")
        writable(Path(sweep_dir) / "runs", "--logs")


@dataclasses.dataclass
class SweepJob:
    """One job of a sweep: load_or_train_many over its fixed shard, with `threads` torch threads (0: torch's
    default). A plain picklable callable: submitit, concurrent.futures, Ray or Dask can run it. Returns the
    names of its runs."""
    configs: list
    results_dir: str | None = None  # None: records.results_folder()
    sweep_dir: str | None = None
    threads: int = 0
    cuda_graph: bool = False

    def __call__(self) -> list[str]:
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        load_or_train_many(self.configs, self.results_dir, progress=False, cuda_graph=self.cuda_graph,
                           sweep_dir=self.sweep_dir)
        return [c.name for c in self.configs]

    def checkpoint(self, *args, **kwargs):
        """submitit calls this when the job is preempted or about to time out (SIGUSR2): requeue the same job.
        Finished runs are records by then and are skipped; an unfinished run (or GPU batch) resumes from its
        last checkpoint (every config.checkpoint_every steps)."""
        import submitit

        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


def run_grid(configs, executor, runs_per_job: int = 1, results_dir=None, sweep_dir=None, threads: int = 0,
             cuda_graph: bool = False, skip=(), by_batch: bool = True) -> list:
    """Submit the missing runs of `configs` (no record in `results_dir`, not in `skip`) as fixed shards of
    `runs_per_job` (see `shard`), one `executor.submit(SweepJob(...))` each, and return the futures (jobs).

    executor: anything with submit(fn) -> future -- submitit.AutoExecutor / LocalExecutor, concurrent.futures,
    Ray's or Dask's. A submitit executor submits the shards as one job array (executor.batch()). With
    `sweep_dir`, each job's runs are appended to <sweep_dir>/submissions.jsonl for `sweep_status`."""
    results_dir = results_folder(results_dir)
    import json
    import time

    skip = {c.id for c in skip}
    todo = [c for c in missing(configs, results_dir) if c.id not in skip]
    jobs = [SweepJob(part, str(results_dir), None if sweep_dir is None else str(sweep_dir), threads, cuda_graph)
            for part in shard(todo, runs_per_job, by_batch)]
    if not jobs:
        return []
    _writable(results_dir, todo, sweep_dir)  # not jobs that each fail at their first write
    batch = getattr(executor, "batch", None)
    with batch() if callable(batch) else contextlib.nullcontext():
        futures = [executor.submit(job) for job in jobs]
    if sweep_dir is not None:
        kind = type(executor).__name__
        kind = getattr(executor, "cluster", None) or ("local" if kind == "LocalExecutor" else kind)
        lines = [json.dumps({"job_id": str(getattr(f, "job_id", "")), "executor": kind, "time": time.time(),
                             "runs": [f"{c.name}-{c.id}" for c in job.configs]}) for f, job in zip(futures, jobs)]
        Path(sweep_dir).mkdir(parents=True, exist_ok=True)
        with open(Path(sweep_dir) / "submissions.jsonl", "a") as f:
            f.write("".join(line + "\n" for line in lines))
    return futures


def make_executor(kind: str, sweep_dir, partition: str | None = None, gpus_per_job: int = 0, time_min: int = 0,
                  cpus_per_job: int = 0, slurm_params: dict | None = None):
    """A submitit executor writing per-job logs to <sweep_dir>/jobs/<job id>/.

    kind "local": submitit.LocalExecutor -- each job a local process (started at once; run_grid's shards decide
    how many), with the same pickled job, per-job log folder and preemption/requeue path as on a cluster.
    kind "slurm": submitit.AutoExecutor(cluster="slurm"): one job array, `partition`, `gpus_per_job` GPUs and
    `cpus_per_job` CPUs per job, `time_min` minutes (the job is signalled, checkpointed and requeued before
    it), `slurm_params` passed as extra #SBATCH options (e.g. {"account": "abc"})."""
    import submitit

    folder = Path(sweep_dir) / "jobs" / "%j"
    if kind == "local":
        ex = submitit.LocalExecutor(folder=folder)
        ex.update_parameters(timeout_min=time_min or 7 * 24 * 60, gpus_per_node=gpus_per_job)
        return ex
    if kind != "slurm":
        raise ValueError(f"--executor: must be local or slurm, got {kind!r}")
    if not partition:
        raise ValueError("--partition: the SLURM partition to submit to is required with --executor slurm")
    try:
        ex = submitit.AutoExecutor(folder=folder, cluster="slurm")
    except RuntimeError as e:  # no srun on this machine
        raise ValueError(f"--executor slurm: {e} (submit from a SLURM login node)") from None
    ex.update_parameters(name=f"grokkit-{Path(sweep_dir).name}", slurm_partition=partition,
                         timeout_min=time_min or 24 * 60, gpus_per_node=gpus_per_job, tasks_per_node=1,
                         cpus_per_task=cpus_per_job or 4, slurm_additional_parameters=dict(slurm_params or {}))
    return ex


def local_job_alive(pid: int, submitted: float | None) -> bool:
    """Is the local job submitted at time `submitted` (seconds since the epoch, from submissions.jsonl) still the
    process `pid` on this host? A process with that pid created after the submission (PID_SLACK_S allowed) is
    another program that reuses a dead job's pid, not the job."""
    import psutil

    try:
        created = psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # it exists, but may not be asked (another user's): trust the pid
        return True
    return submitted is None or created <= float(submitted) + PID_SLACK_S


PID_SLACK_S = 5.0  # a job's process starts before its submission is logged; this much later is another process


def _job_states(entries, sweep_dir) -> dict:
    """job id -> state for the submitted jobs: slurm's (one sacct call through submitit for all of them) or,
    for a local job, RUNNING while its process lives on this host (`local_job_alive`: not a later process that
    reuses its pid), else FINISHED; UNKNOWN when it cannot be
    asked (no sacct here, a job slurm has forgotten)."""
    import logging

    states, slurm = {}, {}
    for e in entries:
        jid = e.get("job_id", "")
        if e.get("executor") == "slurm":
            slurm[jid] = None
        elif e.get("executor") == "local" and jid.isdigit():
            states[jid] = "RUNNING" if local_job_alive(int(jid), e.get("time")) else "FINISHED"
        else:
            states[jid] = "UNKNOWN"
    if slurm:
        try:
            import submitit

            logging.getLogger("submitit").setLevel(logging.ERROR)  # not its per-call sacct warnings

            jobs = {jid: submitit.SlurmJob(folder=Path(sweep_dir) / "jobs" / "%j", job_id=jid) for jid in slurm}
            for jid, job in jobs.items():
                states[jid] = job.state
        except Exception:  # noqa: BLE001
            pass
        for jid in slurm:
            states.setdefault(jid, "UNKNOWN")
    return states


def sweep_status(configs, results_dir=None, sweep_dir=None) -> list[dict]:
    """Each config's state, in order: {"name", "state", "job_id", "detail"}, state one of
    done (its record exists), running (a live job has started it), pending (submitted and waiting, or not
    submitted yet: detail says which), failed (its job reported an error or ended without a record)."""
    results_dir = results_folder(results_dir)
    import json

    entries = {}
    if sweep_dir is not None and (Path(sweep_dir) / "submissions.jsonl").exists():
        for line in (Path(sweep_dir) / "submissions.jsonl").read_text().splitlines():
            if line.strip():
                e = json.loads(line)
                for key in e["runs"]:
                    entries[key] = e  # the latest submission of a run wins
    states, out = _job_states({e["job_id"]: e for e in entries.values()}.values(), sweep_dir), []
    for c in configs:
        key = f"{c.name}-{c.id}"
        row = {"name": c.name, "state": "pending", "job_id": None, "detail": "not submitted"}
        out.append(row)
        if record_path(c, results_dir).exists():
            row.update(state="done", detail=str(record_path(c, results_dir)))
            continue
        e = entries.get(key)
        mark = None
        if sweep_dir is not None and _run_file(sweep_dir, c).exists():
            mark = json.loads(_run_file(sweep_dir, c).read_text())
        if e is not None:
            _job_row(row, e, states, mark, sweep_dir)
        if row["state"] != "running":  # no job, or one that failed, ended or waits: it may be trained by hand
            _outside_sweep(row, c, results_dir)
    return out


def _job_row(row: dict, e: dict, states: dict, mark, sweep_dir) -> None:
    """sweep_status's `row` for a run a job was submitted for (`e`: its submission; `mark`: its run-state file)."""
    row["job_id"] = e["job_id"]
    js = states[e["job_id"]]
    mark = mark if mark and str(mark.get("job_id")) == e["job_id"] else None  # a state file of this job only
    if mark and mark["state"] == "failed":
        row.update(state="failed", detail=f"{mark.get('error', 'error')} (see {sweep_dir}/jobs/{e['job_id']})")
    elif js in JOB_DONE_STATES:
        row.update(state="failed", detail=f"job {e['job_id']} ended ({js}) without its record "
                                          f"(see {sweep_dir}/jobs/{e['job_id']}); run the sweep again to resubmit")
    elif mark and mark["state"] == "running" and js != "PENDING":
        row.update(state="running", detail=f"job {e['job_id']} on {mark['host']} (pid {mark['pid']})")
    else:
        row.update(detail=f"job {e['job_id']} {js.lower()}, not started yet")


def _outside_sweep(row: dict, config, results_dir) -> None:
    """A run no live job of the sweep is training can still be trained by hand (`grokkit run` and
    train.load_or_train hold its lock; a sweep job and load_or_train_many do not) or wait in a checkpoint: `row` says
    so, with the step of its last checkpoint."""
    from .records import lock, lock_path
    from .train import checkpoint_step

    free = True
    if lock_path(config, results_dir).exists():  # no lock file: no trainer has ever taken it
        try:
            with lock(config, results_dir, blocking=False) as free:
                pass
        except OSError as e:  # another user's read-only lock file on NFS: the status cannot tell, and says so
            why = os.strerror(e.errno) if e.errno else str(e)
            row["detail"] += f"; its lock {lock_path(config, results_dir)} cannot be checked here ({why})"
    step = checkpoint_step(config, results_dir)
    at = "" if step is None else f"checkpoint at step {step:,} of {config.steps:,}"
    if not free:
        before = "" if row["detail"] == "not submitted" else f"; before: {row['detail']}"
        row.update(state="running", detail="outside a sweep (another process holds its lock)" + (at and f"; {at}")
                   + before)
    elif at:
        row["detail"] += f"; {at}, where it resumes"

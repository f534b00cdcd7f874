"""Issue 26's interventions: the config fields (validation, ids), the norm clamp, the rank penalties (an autograd
step that is _step_fn's maths plus the penalty), the batched trainer's refusal, the grids, and the chapter."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import grokkit
import grokkit.intervention_tables as ivt
import grokkit.interventions as iv
import grokkit.pilots as ivp
from grokkit import RunConfig
from grokkit.records import load, record_path

REPO = Path(__file__).resolve().parent.parent
TINY = RunConfig(depth=4, width=32, n_train=400, batch_size=100, steps=30, probe_every=-1, checkpoint_every=0,
                 rank_every=30)


# ---- validation: one line naming the field -----------------------------------------------------------------------
@pytest.mark.parametrize("kw, message", [
    ({"norm_clamp": "initial"}, "norm_clamp: must be one of none, init, or a number > 0, got 'initial'"),
    ({"norm_clamp": 0.0}, "norm_clamp: must be one of none, init, or a number > 0, got 0.0"),
    ({"norm_clamp": -5.0}, "norm_clamp: must be one of none, init, or a number > 0, got -5.0"),
    ({"norm_clamp": float("inf")}, "norm_clamp: must be one of none, init, or a number > 0, got inf"),
    ({"norm_clamp": True}, "norm_clamp: must be one of none, init, or a number > 0, got True"),
    ({"rank_penalty": -0.1, "rank_penalty_kind": "neg_spectral_entropy"},
     "rank_penalty: must be a finite number >= 0, got -0.1"),
    ({"rank_penalty_kind": "nuclear"}, "rank_penalty_kind: must be one of none, nuclear_over_frobenius, "
                                       "neg_spectral_entropy, got 'nuclear'"),
    ({"rank_penalty": 0.1}, "rank_penalty: a strength > 0 needs a rank_penalty_kind"),
    ({"rank_penalty_kind": "neg_spectral_entropy"}, "rank_penalty_kind: 'neg_spectral_entropy' needs rank_penalty > 0"),
    ({"rank_penalty_scale": "grad"}, "rank_penalty_scale: must be one of loss, gradient, got 'grad'"),
    ({"rank_penalty_scale": "gradient"}, "rank_penalty_scale: 'gradient' needs a rank_penalty_kind"),
])
def test_intervention_fields_are_validated_in_one_line(kw, message):
    with pytest.raises(ValueError) as e:
        RunConfig(**kw)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def _measured(onset=None, rank_fall=None, **kw) -> iv.Measured:
    """A Measured with the start of the climb and the first rank fall a test sets, the rest neutral unless given: a
    final test accuracy of 0.9, fit at step 0, no collapse."""
    neutral = {"final_acc": 0.9, "norm_at_onset": 1.0, "wall_min": 60.0, "seed": 0, "fit_step": 0, "threads": None,
               "collapse": None, "rank_end": None, "norm_end": None, "norm_lowest_after": None}
    return iv.Measured(onset=onset, rank_fall=rank_fall, **{**neutral, **kw})


def _pilot(eff, loss, window=None, acc=1.0, diverged=False, constant_mse=None) -> ivp.PilotMeasure:
    """A PilotMeasure with the effective rank, train MSE (last; window: None, not read) and train accuracy a test sets;
    no collapse test without `constant_mse`."""
    return ivp.PilotMeasure(eff_rank=eff, robust_rank=eff, rank=eff, train_loss=loss, train_loss_window=window,
                            train_acc=acc, test_acc=acc, diverged=diverged, constant_mse=constant_mse)


def _patch(monkeypatch, name: str, value) -> None:
    """Replace `name` wherever the interventions' modules hold it (each imports what it reads by name)."""
    held = [m for m in (iv, ivp, ivt) if hasattr(m, name)]
    assert held, name
    for m in held:
        monkeypatch.setattr(m, name, value)


def test_cli_reads_a_number_or_a_word_for_norm_clamp():
    from grokkit.__main__ import _arg_type

    read = _arg_type(str, number=True)
    assert read("init") == "init" and read("199.8") == 199.8 and read("none") == "none"


# ---- ids and names: unchanged at the defaults, changed and suffixed otherwise ------------------------------------
def test_default_ids_and_names_are_unchanged():
    assert RunConfig().id == "2ac5723cc6" and RunConfig().name == "d12_w400_n5000_a8_wd0.01_s0"  # the shipped record
    assert (REPO / "results" / "d12_w400_n5000_a8_wd0.01_s0-2ac5723cc6.npz").exists()
    assert not set(RunConfig().identity()) & {"norm_clamp", "rank_penalty", "rank_penalty_kind", "rank_penalty_scale"}
    assert RunConfig().interventions == {}


def test_every_shipped_record_keeps_its_file_name():
    """Each record in results/ is <name>-<id>.npz of the config it holds: ids and names did not move."""
    paths = sorted((REPO / "results").glob("*.npz"))
    assert len(paths) >= 30
    for p in paths:
        run = load(p)
        assert record_path(run.config, p.parent) == p, p.name
        assert run.config.id == run.meta["config_id"] and run.config.name == run.meta["name"]


def test_an_intervention_changes_the_id_and_names_itself():
    base = RunConfig()
    cases = {"norm_clamp": ("init", "_norminit"), "norm_clamp ": (199.8, "_norm199.8")}
    for field, (value, suffix) in cases.items():
        c = base.replace(**{field.strip(): value})
        assert c.id != base.id and c.name == base.name + suffix and c.interventions == {field.strip(): value}
    down = base.replace(rank_penalty=0.5, rank_penalty_kind="nuclear_over_frobenius")
    up = base.replace(rank_penalty=0.5, rank_penalty_kind="neg_spectral_entropy")
    assert down.name.endswith("_rankdown0.5") and up.name.endswith("_rankup0.5")
    grad = down.replace(rank_penalty_scale="gradient")
    assert grad.name.endswith("_rankdown0.5grad") and down.replace(rank_penalty_scale="loss").id == down.id
    assert len({base.id, down.id, up.id, grad.id}) == 4
    assert base.replace(norm_clamp=200).id == base.replace(norm_clamp=200.0).id  # one run, one id
    assert RunConfig.from_dict(down.identity()).id == down.id  # a record's identity reads back


def test_paper_selection_never_takes_an_intervention_run():
    from grokkit.events import config_label
    from grokkit.records import Run, intervened, seeds_of

    c = RunConfig(norm_clamp="init")
    r = Run(config=c, history={}, meta={})
    assert intervened(r) and not seeds_of([r], 12, 5000, 0.01)
    low = Run(config=RunConfig(alpha=5.203), history={}, meta={})  # the second round's low start
    assert intervened(low) and not seeds_of([low], 12, 5000, 0.01)
    assert not intervened(Run(config=RunConfig(), history={}, meta={}))
    assert config_label(c) == "d = 12, N = 5000, γ = 0.01, seed 0, norm held at its initial value"
    assert config_label(RunConfig()) == "d = 12, N = 5000, γ = 0.01, seed 0"


# ---- the step: autograd path = _step_fn's maths (+ the penalty) --------------------------------------------------
def _data(dtype=torch.float32):
    g = torch.Generator().manual_seed(0)
    x, labels = torch.rand(120, 784, generator=g, dtype=dtype), torch.randint(0, 10, (120,), generator=g)
    return x, F.one_hot(labels, 10).to(dtype), g


@pytest.mark.parametrize("kind", ["none", "nuclear_over_frobenius"])
def test_penalised_step_at_zero_strength_is_the_hand_written_step_bit_for_bit(kind):
    from grokkit.penalties import penalised_step_fn
    from grokkit.train import _step_fn

    x, y, g = _data()
    models = [grokkit.make_mlp(4, 32, 8.0, 0) for _ in range(2)]
    opts = [torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.05, fused=True) for m in models]
    hand, auto = _step_fn(models[0], opts[0], x, y, 40), penalised_step_fn(models[1], opts[1], x, y, kind, 0.0)
    for s in range(12):
        idx = torch.randperm(120, generator=g)[:40] if s % 4 else torch.arange(100, 120)  # short batches too
        assert torch.equal(hand(idx), auto(idx)), s
        for p, q in zip(models[0].parameters(), models[1].parameters()):
            assert torch.equal(p, q), s


@pytest.mark.parametrize("kind", ["nuclear_over_frobenius", "neg_spectral_entropy"])
def test_penalised_loss_is_mse_plus_the_penalty(kind):
    from grokkit.penalties import penalised_step_fn, rank_penalty

    x, y, _ = _data()
    model = grokkit.make_mlp(4, 32, 1.0, 0)
    idx = torch.arange(40)
    with torch.no_grad():
        feats, a = [], x[idx]
        for i, layer in enumerate(model.layers):
            a = layer(a)
            if i < 3:
                a = torch.relu(a)
                feats.append(a)
        mse, pen = F.mse_loss(a, y[idx]), rank_penalty(feats, kind)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01, fused=True)
    loss = penalised_step_fn(model, opt, x, y, kind, 0.5)(idx)
    torch.testing.assert_close(loss, mse + 0.5 * pen)
    if kind == "nuclear_over_frobenius":  # between 1 and sqrt(rank) <= sqrt(39)
        assert 1.0 < pen < 39 ** 0.5
    else:  # minus an entropy of at most log(39) nats
        assert -np.log(39) < pen < 0
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_penalty_values_on_known_spectra():
    from grokkit.penalties import rank_penalty

    g = torch.Generator().manual_seed(1)
    rank1 = torch.rand(50, 1, generator=g, dtype=torch.float64) @ torch.rand(1, 16, generator=g, dtype=torch.float64)
    torch.testing.assert_close(rank_penalty([rank1], "nuclear_over_frobenius"), torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(rank_penalty([rank1], "neg_spectral_entropy"), torch.tensor(0.0, dtype=torch.float64),
                               atol=1e-9, rtol=0)
    with pytest.raises(ValueError, match="rank_penalty_kind"):
        rank_penalty([rank1], "none")


def test_a_layer_narrower_than_the_batch_takes_the_smaller_matrix_with_the_same_penalty():
    """width < B (the tiny runs and the stand-ins): the eigenvalues come from Hcᵀ Hc, whose non-zero eigenvalues are
    those of the B x B Gram matrix Hc Hcᵀ, so the penalty and its gradient are the Gram matrix's to rounding."""
    from grokkit.penalties import rank_penalty

    g = torch.Generator().manual_seed(2)
    h = torch.relu(torch.randn(100, 32, generator=g, dtype=torch.float64))
    h[:, 5] = 0  # a dead unit: an exact zero eigenvalue on the narrow side
    for kind in ("nuclear_over_frobenius", "neg_spectral_entropy"):
        narrow = h.clone().requires_grad_(True)
        got = rank_penalty([narrow], kind)
        got.backward()
        wide = h.clone().requires_grad_(True)  # the B x B reference, written out
        hc = wide - wide.mean(0)
        ev = torch.linalg.eigvalsh(hc @ hc.T)
        ev = ev[ev > ev[-1].detach() * 1e-12]
        want = ev.sqrt().sum() / ev.sum().sqrt() if kind == "nuclear_over_frobenius" else (
            (ev / ev.sum()) * (ev / ev.sum()).log()).sum()
        want.backward()
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(narrow.grad, wide.grad, rtol=1e-7, atol=1e-12)


def test_a_narrow_penalised_step_runs_on_one_thread_and_gives_the_threads_back(monkeypatch):
    """On a CPU a penalised step of a run narrower than SERIAL_WIDTH runs on one thread (its small float64 linear
    algebra costs more in thread hand-offs than in arithmetic) and restores the thread count; a paper-width run, or
    one without a penalty, never touches it."""
    from grokkit.penalties import SERIAL_WIDTH, penalised_step_fn

    calls = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (calls.append(n), real(n)))
    x, y, _ = _data()
    before = torch.get_num_threads()
    for width, lam, want in ((32, 0.5, [1, before]), (SERIAL_WIDTH, 0.5, []), (32, 0.0, [])):
        calls.clear()
        model = grokkit.make_mlp(3, width, 1.0, 0)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01, fused=True)
        loss = penalised_step_fn(model, opt, x, y, "neg_spectral_entropy", lam)(torch.arange(40))
        assert calls == want and torch.get_num_threads() == before and torch.isfinite(loss), (width, lam, calls)


# ---- training runs: the clamp holds the norm, the penalties move the rank ----------------------------------------
@pytest.mark.parametrize("clamp", ["init", 60.0])
def test_norm_clamp_holds_the_weight_norm_after_every_step(clamp):
    from grokkit.train import train

    cfg = TINY.replace(norm_clamp=clamp)
    run = train(cfg, progress=False)
    init = grokkit.make_mlp(4, 32, 8.0, 0)
    target = grokkit.metrics.weight_norms(init)[0] if clamp == "init" else clamp
    h = run.history
    assert list(h["step"]) == list(range(31))  # every step is logged below step 30: the norm after each one
    np.testing.assert_allclose(h["weight_norm"], target, rtol=1e-6)
    free = train(TINY, progress=False).history["weight_norm"]
    assert abs(free[-1] - free[0]) > 100 * abs(h["weight_norm"][-1] - target)  # without it the norm moves


def test_penalties_move_the_rank_in_their_direction():
    """A few hundred steps of a tiny run (α = 1, so that the scale-free penalties' gradients count): the effective
    rank of the hidden layers ends lower with the nuclear/Frobenius penalty and higher with the entropy penalty than
    without a penalty; so does the tolerance-robust rank."""
    from grokkit.train import train

    cfg = TINY.replace(alpha=1.0, steps=300, log_every=100, rank_every=300)
    out = {}
    for kind in ("none", "nuclear_over_frobenius", "neg_spectral_entropy"):
        h = train(cfg.replace(rank_penalty=0.0 if kind == "none" else 1.0, rank_penalty_kind=kind),
                  progress=False).history
        out[kind] = (h["eff_rank"][-1, :-1].mean(), h["robust_rank"][-1, :-1].mean())
    for i in range(2):
        assert out["nuclear_over_frobenius"][i] < out["none"][i] < out["neg_spectral_entropy"][i], out


def test_gradient_scale_adds_the_penalty_pull_at_lambda_times_the_fit_pull():
    """With rank_penalty_scale "gradient", the gradient a step (make_step) hands to the optimizer is the MSE's plus the
    penalty's own gradient rescaled to λ x the MSE gradient's norm: the output layer gets the MSE's alone, the hidden
    layers the MSE's plus a vector along ∇penalty of norm λ ||∇MSE||, whatever the scale of the loss (α = 8 here, an
    MSE in the thousands). With every unit dead (no pull) the step takes the fit alone, finite."""
    import copy

    from grokkit.penalties import rank_penalty, total_norm
    from grokkit.train import make_mlp, make_step

    torch.manual_seed(0)
    x, y = torch.randn(64, 784), F.one_hot(torch.arange(64) % 10, 10).float()

    def grads(cfg, model):
        opt = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the step leaves the weights and keeps its .grad
        loss = make_step(cfg, model, opt, x, y)(torch.arange(64))
        return loss, [p.grad.clone() for p in model.parameters()]

    def own(model, kind):  # the MSE's and the penalty's gradients, each on its own
        feats, a = [], x
        for i, layer in enumerate(model.layers):
            a = layer(a)
            if i < len(model.layers) - 1:
                a = torch.relu(a)
                feats.append(a)
        params = list(model.parameters())
        fit = torch.autograd.grad(F.mse_loss(a, y), params, retain_graph=True)
        return fit, torch.autograd.grad(rank_penalty(feats, kind), params[:-2])

    for kind in ("nuclear_over_frobenius", "neg_spectral_entropy"):
        cfg = TINY.replace(rank_penalty=0.25, rank_penalty_kind=kind, rank_penalty_scale="gradient")
        model = make_mlp(4, 32, 8.0, 0)
        fit, pen = own(copy.deepcopy(model), kind)
        loss, got = grads(cfg, model)
        # the output layer: the fit alone, to rounding: on several threads the two backward passes may sum in
        # another order, so an entry near zero is compared at the scale of its tensor
        assert all(torch.allclose(got[i], fit[i], rtol=1e-5, atol=1e-5 * float(fit[i].abs().max())) for i in (-1, -2))
        pull = torch.cat([(g - f).flatten() for g, f in zip(got[:-2], fit[:-2])]).double()
        along = torch.cat([p.flatten() for p in pen]).double()
        assert float(F.cosine_similarity(pull, along, dim=0)) == pytest.approx(1.0, abs=1e-4)  # along ∇penalty
        assert float(pull.norm()) == pytest.approx(0.25 * float(total_norm(fit)), rel=1e-3)
        assert float(loss) > 1e3
        # the loss scale adds λ x ∇penalty itself: a different (here far smaller) pull
        _, got_loss = grads(cfg.replace(rank_penalty_scale="loss"), make_mlp(4, 32, 8.0, 0))
        assert not torch.equal(got_loss[0], got[0])
        # every unit of the first layer dead: no features move the penalty; the step is the fit's, finite
        dead = make_mlp(4, 32, 8.0, 0)
        with torch.no_grad():
            dead.layers[0].weight.zero_()
            dead.layers[0].bias.fill_(-1.0)
        fit, _ = own(copy.deepcopy(dead), kind)
        _, got = grads(cfg, dead)
        assert all(torch.isfinite(g).all() and torch.allclose(g, f, rtol=1e-5, atol=0) for g, f in zip(got, fit))


def test_batched_trainer_refuses_interventions_in_one_line():
    from grokkit.batched import check_configs

    for kw in ({"norm_clamp": "init"}, {"rank_penalty": 0.1, "rank_penalty_kind": "neg_spectral_entropy"}):
        with pytest.raises(ValueError) as e:
            check_configs([TINY, TINY.replace(seed=1, **kw)])
        assert str(e.value).startswith(f"{next(iter(kw))}: the batched trainer does not implement")
        assert "\n" not in str(e.value)


# ---- the grids ---------------------------------------------------------------------------------------------------
def test_interventions_grid_has_eight_distinct_runs_of_the_base():
    from grokkit.interventions import INTERVENTIONS
    from grokkit.sweep import GRIDS, control_norm_at_onset, intervention_configs, interventions_grid

    grid = GRIDS["interventions"]()
    assert grid == interventions_grid() and len(grid) == 8 and len({c.id for c in grid}) == 8
    assert {c.seed for c in grid} == {0, 1}
    for c in grid:
        assert (c.depth, c.n_train, c.weight_decay, c.dtype, c.steps) == (12, 5000, 0.01, "float32", 100_000)
        assert c.replace(norm_clamp="none", rank_penalty=0.0, rank_penalty_kind="none",
                             rank_penalty_scale="loss") == RunConfig(seed=c.seed)
        assert c.interventions
    assert list(intervention_configs(0)) == list(INTERVENTIONS)
    low = control_norm_at_onset()
    assert intervention_configs(0)["norm_low"].norm_clamp == low
    init = grokkit.metrics.weight_norms(grokkit.make_mlp(12, 400, 8.0, 0))[0]
    assert 0 < low < init  # weight decay shrank the control's norm before its test climb


def test_control_norm_is_the_median_over_seeds_at_the_climb_start():
    from grokkit.claims import detector
    from grokkit.events import events
    from grokkit.sweep import CONTROL_SEEDS, INTERVENTION_BASE, control_norm_at_onset

    vals = []
    for s in CONTROL_SEEDS:
        run = load(record_path(INTERVENTION_BASE.replace(seed=s)))
        on = events(run, detector()).climb_onset_step
        vals.append(run.history["weight_norm"][list(run.history["step"]).index(on)])
    assert control_norm_at_onset() == pytest.approx(np.median(vals), rel=5e-4)
    with pytest.raises(ValueError, match="no record of the control"):
        control_norm_at_onset(results_dir=REPO / "tests")


def test_pilot_grid_short_runs_of_each_penalty():
    from grokkit.sweep import GRIDS, PILOT_STEPS, PILOT_STRENGTHS

    grid = GRIDS["pilots"]()
    assert len({c.id for c in grid}) == len(grid) == 1 + 2 * len(PILOT_STRENGTHS)
    assert all(c.steps == PILOT_STEPS == 10_000 and c.seed == 0 for c in grid)
    # ranks every 500 steps (5 in the rule's last 2,000), no probes: a pilot's evaluations cost a tenth of a full run's
    assert all(c.log_period == c.rank_period == 500 and c.probe_period == 0 for c in grid)
    assert sum(grid[0].is_rank_step(s) and grid[0].is_log_step(s) for s in range(8_000, 10_001)) == 5
    assert {c.rank_penalty_kind for c in grid} == {"none", "nuclear_over_frobenius", "neg_spectral_entropy"}
    assert {c.rank_penalty_scale for c in grid} == {"loss"}
    # the second round: the same reference (shared), its penalties scaled to the fit's gradient at its own strengths
    from grokkit.sweep import (
        INTERVENTION_SEEDS,
        PILOT_STRENGTHS_GRADIENT,
        RANK_PENALTY_SCALE,
        intervention_configs,
    )
    second = GRIDS["pilots_gradient"]()
    assert second[0] == grid[0] and len({c.id for c in second} | {c.id for c in grid}) == 1 + 10 + 10
    assert {c.rank_penalty_scale for c in second[1:]} == {"gradient"}
    assert sorted({c.rank_penalty for c in second[1:]}) == sorted(PILOT_STRENGTHS_GRADIENT)
    assert [c.log_period for c in second] == [500] * 11 and all(c.name.endswith("grad") for c in second[1:])
    with pytest.raises(ValueError, match="^scale: must be one of loss, gradient, got 'grad'$"):
        GRIDS["pilots"]("grad")
    # the full-scale penalised runs use the second round's scale
    for s in INTERVENTION_SEEDS:
        cs = intervention_configs(s)
        assert cs["rank_down"].rank_penalty_scale == cs["rank_up"].rank_penalty_scale == RANK_PENALTY_SCALE


# ---- the chapter --------------------------------------------------------------------------------------------------
# The README's test command executes book/interventions.ipynb under nbval, once; this test reads what the chapter's
# cells print from the same calls, in-process (display captured), instead of executing the notebook a second time.
# Its stand-ins go to chapters.smoke_dir(), where that execution finds them: trained once per test run.
def test_interventions_chapter_text_in_smoke_mode(monkeypatch):
    from grokkit import book
    from grokkit.sweep import interventions_grid, pilot_grid

    monkeypatch.setenv("GROKKIT_SMOKE", "1")
    out = []
    monkeypatch.setattr(book, "display", out.append)
    book.banner("cpu")  # the chapter's cells, in its order (the figure is left to nbval's execution)
    book.intervention_control()
    book.intervention_pilots("loss")
    book.intervention_pilots("gradient")
    configs = interventions_grid([0, 1], 100_000, "auto")
    runs = book.intervention_runs(configs)
    book.intervention_verdicts(runs)
    text = "\n".join(str(getattr(o, "data", o)) for o in out)
    recorded = sum(record_path(c).exists() for c in configs)         # computed from results/: each a graded record
    assert recorded == sum(map(len, iv.measured_by_key(book._intervention_records()).values()))
    pilots = sum(record_path(c).exists() for c in pilot_grid())
    second = sum(record_path(c).exists() for c in pilot_grid("gradient")[1:])
    assert pilots == 11 and 0 < second <= 10  # the chapter checks which are shipped
    assert text.count("none (the reference)") == 2  # two tables, each from the reference
    assert "norm held at its initial value" in text and "smoke-scale stand-in" in text
    assert all(r.meta.get("stand_in") for r in runs) and len(runs) == 8


def test_cost_reads_each_interventions_step_from_the_benchmark():
    from grokkit.intervention_tables import bench_variant, cost

    step = {"paper": 0.03, "norm_clamp": 0.036, "nuclear_over_frobenius": 0.12, "neg_spectral_entropy": 0.11,
            "nuclear_over_frobenius_gradient": 0.135, "neg_spectral_entropy_gradient": 0.141}
    bench = {"threads": 1, "interventions": {"step_s": step, "ratio": {k: v / 0.03 for k, v in step.items()},
                               "full_run_s": {k: v * 1e5 + 360 for k, v in step.items()}}}
    assert [bench_variant(k) for k in ("norm_init", "norm_low", "rank_down", "rank_up")] == [
        "norm_clamp", "norm_clamp", "nuclear_over_frobenius_gradient", "neg_spectral_entropy_gradient"]
    c = cost(bench)
    assert c.threads == 1 and c.steps == 100_000
    assert c.ratio == pytest.approx({"norm_init": 1.2, "norm_low": 1.2, "rank_down": 4.5, "rank_up": 4.7})
    assert c.hours == pytest.approx({"norm_init": 1.1, "norm_low": 1.1, "rank_down": 3.85, "rank_up": 4.0167},
                                    rel=1e-4)  # hours: (seconds a step x 10⁵ + 360) / 3,600
    # a penalised step: one eigendecomposition per hidden layer of a 200 x 200 Gram matrix, and the full-scale runs'
    # pull (sweep.RANK_PENALTY_SCALE "gradient") a second backward pass
    assert (c.eigendecompositions, c.side, c.second_backward) == (11, 200, True)
    assert cost({**bench, "threads": None}).threads is None
    assert cost({"config": "an older benchmark"}) is cost(None) is None


def test_story_badges_grade_each_story_on_its_own_predictions():
    from grokkit.interventions import check_results, story_results

    def flags(rows):  # every seed's pass/fail over one story's graded predictions
        return [h for *_, res in rows for h in res]

    def m(onset, fall):
        return _measured(onset, fall)

    control = [m(30_000, 29_000), m(33_000, 32_000), m(36_000, 35_000)]
    assert flags(story_results({}, control)["norm"]) == []  # nothing recorded: nothing graded
    # the norm held high: no climb and no rank fall on both seeds -- both stories' predictions hold
    res = story_results({"norm_init": [m(None, None), m(None, None)]}, control)
    assert [(part, r) for _, part, _, r in res["norm"]] == [("onset", [True, True])]   # its rank: no prediction
    assert all(flags(res["norm"])) and all(flags(res["rank"])) and len(flags(res["rank"])) == 4  # onset and rank
    assert check_results({"norm_init": [m(None, None)]}, control) == []  # a clamp has no check on the rank
    # rank pushed down: the climb comes 10,000 steps before the control's earliest, after an earlier rank fall; the
    # rank's fall is a check, in neither badge: each story is graded on its onset alone
    down = {"rank_down": [m(20_000, 18_000), m(21_000, 19_000)]}
    res = story_results(down, control)
    assert [(part, r) for _, part, _, r in res["rank"]] == [("onset", [True, True])]
    assert [(part, r) for _, part, _, r in res["norm"]] == [("onset", [False, False])]   # "unchanged" fails
    assert flags(res["rank"]) == [True, True] and flags(res["norm"]) == [False, False]
    assert check_results(down, control) == [("Rank pushed down", "falls", [True, True]),
                                            ("Rank pushed down", "falls_earlier", [True, True])]
    # rank held up: climbs on time with a high rank: the rank story's onset fails; "stays high" is one check, stated
    # by both stories and read once
    up = {"rank_up": [m(31_000, None), m(32_000, None)]}
    res = story_results(up, control)
    assert flags(res["rank"]) == [False, False] and flags(res["norm"]) == [True, True]
    assert check_results(up, control) == [("Rank held up", "stays_high", [True, True])]
    res = story_results({"norm_low": [m(40_000, 45_000), m(41_000, 46_000)]}, control)
    assert not any(flags(res["rank"]))
    # a run that never fits its training set cannot test when it generalizes: its "never" is graded for nothing;
    # its checks on the rank are still read
    unfit = _measured(fit_step=None)
    res = story_results({"rank_up": [unfit, unfit]}, control)
    assert res["rank"] == [] and res["norm"] == []
    assert check_results({"rank_up": [unfit, unfit]}, control) == [("Rank held up", "stays_high", [True, True])]
    res = story_results({"rank_up": [unfit, m(31_000, None)]}, control)
    assert [(part, r) for _, part, _, r in res["rank"]] == [("onset", [False])]
    res = story_results({"norm_init": [unfit]}, control)
    assert res["norm"] == [] and res["rank"] == []  # its onset and "a climb comes only with a rank fall": untestable


def test_manipulation_checks_are_typed_and_leave_the_badges():
    """What a penalty sets out to do to the rank is a check that it acted, not a prediction of either story: the
    penalties' rank cells, in both stories, and nothing else, are marked so (Prediction.check); no check is a
    timing test of the rank story, and each penalty's aim (PENALTY_AIMS) is one of its checks."""

    checks = {(k, st, part) for k, story in iv.PREDICTIONS.items() for st, parts in story.items()
              for part, p in parts.items() if p.check}
    assert checks == {(k, st, "rank") for k in ("rank_down", "rank_up") for st in iv.STORIES}
    assert all(isinstance(p, iv.Prediction) for story in iv.PREDICTIONS.values() for parts in story.values()
               for p in parts.values())
    assert not {(iv.PREDICTIONS[k][st][part].keyword, part) for k, st, part in checks} & set(iv.TIMING_TESTS)
    assert all(any(iv.PREDICTIONS[k][st]["rank"].keyword == aim for st in iv.STORIES)
               for k, aim in iv.PENALTY_AIMS.items())
    assert {p.keyword for story in iv.PREDICTIONS.values() for parts in story.values() for p in parts.values()} <= \
        set(iv.KEYWORDS)  # every keyword has the label the chapter's written table opens its cell with


def test_a_run_that_never_fits_and_ends_collapsed_is_untestable_despite_an_early_wiggle():
    """The rank pushed down, seed 1: the test accuracy rose from 0.10 to 0.15 before its outputs collapsed, which the
    climb detector reads as a climb from step 3; it never fit, so no onset prediction is graded on it."""
    from grokkit.interventions import held, untestable

    gone = iv.Collapse(step=21_344, train_loss=0.0898, constant_mse=0.0899, train_acc=0.113)
    m = _measured(3, 11_339, seed=1, fit_step=None, collapse=gone, rank_end=82.6)
    control = [_measured(43_355, 46_690, seed=s, fit_step=40_020) for s in range(3)]
    assert untestable(m) and held("earlier", "onset", m, control) is None
    assert held("falls_earlier", "rank", m, control) is True  # its rank alone is still read
    assert not untestable(replace(m, collapse=None))  # a climb without a collapse is graded as declared
    assert not untestable(replace(m, fit_step=30_000))


def test_measure_reads_the_rank_at_the_end_under_each_definition():
    """measure()'s rank_end is the mean over the hidden layers at the last snapshot, under the rank definition asked
    for; the runs table shows it (paper-exact) and writes a shift with a minus sign. On a shipped control record."""
    from grokkit import book
    from grokkit.intervention_tables import measures_md
    from grokkit.interventions import measure

    run = book._control_records()[0]
    h = run.history
    paper, robust = (np.asarray(h[k], dtype=float)[-1, :-1].mean() for k in ("rank", "robust_rank"))
    assert measure(run).rank_end == pytest.approx(paper) and 200 < paper < 260  # the control ends near 231
    assert measure(run, "robust_rank").rank_end == pytest.approx(robust) and robust < 50
    table = measures_md([run], [replace(measure(run), onset=measure(run).onset + 1_000)])
    header, _, row = table.splitlines()
    assert header.split(" | ")[5] == "mean hidden-layer rank at the end (of 400)" and f"| {paper:.3g} |" in row
    assert "| −1,000 steps |" in row and " -" not in row  # a minus sign
    assert header.split(" | ")[2] == "shift against the control's median (its seeds: 0 to 0 steps)"  # zero unsigned
    m, norms, steps = measure(run), np.asarray(h["weight_norm"], dtype=float), np.asarray(h["step"])
    after = steps >= m.onset
    assert m.norm_end == pytest.approx(norms[-1]) and 130 < m.norm_end < m.norm_at_onset
    assert m.norm_lowest_after.norm == pytest.approx(norms[after].min())
    assert m.norm_lowest_after.step == steps[after][np.argmin(norms[after])]
    assert f"| {m.norm_at_onset:.3g} → {m.norm_end:.3g} |" in row


def test_measure_follows_the_weight_norm_past_the_climb_on_the_shipped_records():
    """measure()'s norm fields on the shipped rank held up, seed 0: from 199 at its climb the norm dips to its lowest
    (182, step 81,374) and ends at 196, above every control seed's end (141-152), as the verdicts paragraph says."""
    from grokkit import book

    up = [m for m in iv.measured_by_key(book._intervention_records()).get("rank_up", []) if m.seed == 0]
    if not up:
        pytest.skip("the rank held up, seed 0, is not recorded in this clone")
    m = up[0]
    assert m.norm_lowest_after.step == 81_374 and round(m.norm_lowest_after.norm) == 182
    assert round(m.norm_at_onset) == 199 and round(m.norm_end) == 196
    assert m.norm_end > max(iv.measure(r).norm_end for r in book._control_records())


def test_pilot_rule_picks_the_smallest_strength_that_moves_the_rank_without_breaking_training():
    from grokkit.pilots import pilot_table
    from grokkit.records import Run
    from grokkit.sweep import pilot_grid

    def pilot(cfg, eff, loss, diverged=False):
        rs = np.arange(0, 10_001, 667)
        ranks = np.full((len(rs), cfg.depth), 300.0)
        return Run(config=cfg, history={"rank_step": rs, "eff_rank": ranks * 0 + eff, "robust_rank": ranks,
                                        "rank": ranks, "step": np.array([0, 10_000]),
                                        "train_loss": np.array([1e9, loss]), "train_acc": np.array([0.1, 0.2]),
                                        "test_acc": np.array([0.1, 0.2])},
                   meta={"diverged_at": 9000 if diverged else None})

    grid = pilot_grid()
    ref, down, up = grid[0], grid[1:6], grid[6:]
    assert [c.rank_penalty for c in down] == [0.01, 0.1, 1.0, 10.0, 100.0] == [c.rank_penalty for c in up]
    runs = [pilot(ref, 100.0, 0.09)]
    # rank pushed down: 0.01 barely moves it, 0.1 moves it 8 % (not enough), 1 moves it 20 %, 10 breaks training
    runs += [pilot(c, e, mse) for c, e, mse in zip(down, (99.0, 92.0, 80.0, 50.0, 20.0), (.09, .09, .095, .2, .5))]
    # rank held up: it moves up 12 % only at 10, which diverged; 100 moves it and stays within the loss bound
    runs += [pilot(c, e, 0.09, d) for c, e, d in zip(up, (100.0, 101.0, 105.0, 112.0, 130.0),
                                                       (False, False, False, True, False))]
    table, chosen = pilot_table(runs)
    assert chosen == {"nuclear_over_frobenius": 1.0, "neg_spectral_entropy": 100.0}
    lines = table.splitlines()
    assert lines[2].startswith("| none (the reference) | 0 | 100.0 |")
    assert "| Rank pushed down | 1 | 80.0 (−20.0 %) | 300.0 | 0.095 (1.06 ×; window 1.06 ×) |" in table
    assert "moves the rank (chosen) |" in lines[5]
    assert lines[6].endswith("breaks training |") and lines[3].endswith("rank not moved |")
    assert "| Rank held up | 0.01 | 100.0 (0.0 %) |" in table  # no shift: no sign
    assert "| Rank held up | 10 | 112.0 (+12.0 %) |" in table and lines[11].endswith("breaks training |")
    assert pilot_table(runs[1:6] + runs[:1])[1]["neg_spectral_entropy"] is None  # no pilot of it: none chosen
    with pytest.raises(ValueError, match="^pilot_runs: the pilot without a penalty"):
        pilot_table(runs[1:])
    from grokkit.pilots import loss_ratio
    assert [loss_ratio(r) for r in (1.13, 1.1000264, 1.0999, 2793 / 2793)] == ["1.13 ×", "1.10003 ×", "1.0999 ×",
                                                                                "1.00 ×"]
    assert loss_ratio(0.135 / 2793) == "0.000048 ×" and loss_ratio(0.0123) == "0.01 ×"


def test_full_scale_strengths_are_the_second_rounds_picks_once_decided():
    """sweep.RANK_DOWN_STRENGTH / RANK_UP_STRENGTH equal the full-scale strength from the shipped second-round pilots
    (pilots.full_scale_strength: the amended rule's pick, or the declared fallback's), for each penalty whose
    pick is decided (every smaller strength recorded; all of them for a rule that picks none)."""
    from grokkit import sweep
    from grokkit.pilots import full_scale_strength, pick_decided, pilot_measure, pilot_table, pilots_by_kind

    grid = sweep.pilot_grid("gradient")
    runs = [load(record_path(c)) for c in grid if record_path(c).exists()]
    if not runs or runs[0].config != grid[0]:
        pytest.skip("the pilots' reference is not recorded")
    chosen = pilot_table(runs, "gradient")[1]
    ref, by_kind = pilot_measure(runs[0]), pilots_by_kind(runs, "gradient")
    decided = 0
    for kind, const in (("nuclear_over_frobenius", sweep.RANK_DOWN_STRENGTH),
                        ("neg_spectral_entropy", sweep.RANK_UP_STRENGTH)):
        done = by_kind.get(kind, {})
        if pick_decided(chosen[kind], done, sweep.PILOT_STRENGTHS_GRADIENT):
            lam = full_scale_strength(kind, done, ref)[0]  # the rule's pick, or the declared fallback's
            assert const == lam, (kind, const, lam)
            decided += 1
    assert decided == 2, "the shipped second-round pilots decide both penalties' strengths"


def test_full_scale_strength_falls_back_to_the_loosest_bound_only_when_the_rule_picks_none():
    from grokkit.pilots import FALLBACK_LOSS_MAX, full_scale_strength

    def m(eff, loss, window):
        return _pilot(eff, loss, window)

    ref, lams = m(100.0, 1000.0, 2000.0), (0.01, 0.03, 0.1)
    # rank held up: 0.01 does not move it; 0.03 and 0.1 move it but read 1.3 x and 2.5 x at the last step
    up = dict(zip(lams, (m(105.0, 1050.0, 1800.0), m(120.0, 1300.0, 1500.0), m(150.0, 2500.0, 1200.0))))
    down = dict(zip(lams, (m(95.0, 1000.0, 2000.0), m(60.0, 900.0, 1900.0), m(30.0, 800.0, 1800.0))))
    assert FALLBACK_LOSS_MAX == 2.0
    assert full_scale_strength("neg_spectral_entropy", up, ref) == (0.03, True)
    assert full_scale_strength("nuclear_over_frobenius", down, ref) == (0.03, False)
    broken = {k: replace(v, train_loss=3000.0) for k, v in up.items()}
    assert full_scale_strength("neg_spectral_entropy", broken, ref) == (None, False)


def test_a_pilot_collapsed_to_a_constant_output_breaks_training_under_the_amended_rule():

    from grokkit.data import constant_mse
    from grokkit.interventions import COLLAPSE_ACC, COLLAPSE_MSE, collapsed
    from grokkit.pilots import choose_strength, full_scale_strength

    assert constant_mse(5000) == pytest.approx(0.0899, abs=1e-4)  # Σ p (1 - p) / 10 over the first 5000 labels
    assert (COLLAPSE_MSE, COLLAPSE_ACC) == (2.0, 0.2)

    def m(eff, loss, acc=0.1):
        return _pilot(eff, loss, loss, acc, constant_mse=0.09)

    ref, lams = m(100.0, 1000.0), (0.01, 0.03, 0.1)
    assert not collapsed(ref) and not collapsed(replace(m(100, 0.1), constant_mse=None))
    assert collapsed(m(100.0, 0.15)) and not collapsed(m(100.0, 0.15, acc=0.9)) and not collapsed(m(100.0, 0.2))
    # the rank held up: 0.03 moves it at 1.3 x; 0.1 moves it further, its MSE at the constant output's level
    up = dict(zip(lams, (m(105.0, 1000.0), m(120.0, 1300.0), m(150.0, 0.15))))
    assert full_scale_strength("neg_spectral_entropy", up, ref) == (0.03, True)  # committed: 0.1; amended: none
    fit = dict(zip(lams, (m(105.0, 1000.0), m(120.0, 1000.0), m(150.0, 0.15))))
    assert full_scale_strength("neg_spectral_entropy", fit, ref) == (0.03, False)  # 0.03 works: no deviation
    # as committed the rule takes the collapsed 0.1 (its MSE looks like a fit); amended, it takes none
    assert choose_strength("neg_spectral_entropy", up, ref, collapse=False) == 0.1
    assert choose_strength("neg_spectral_entropy", up, ref) is None
    # at the accuracy bound itself a pilot has not collapsed (below it, it has)
    assert not collapsed(m(150.0, 0.15, acc=COLLAPSE_ACC)) and collapsed(m(150.0, 0.15, acc=COLLAPSE_ACC - 1e-9))
    # neither the amended rule nor the fallback picks: said so, with no deviation claimed
    none = {**up, 0.03: m(120.0, 2500.0)}
    assert full_scale_strength("neg_spectral_entropy", none, ref) == (None, True)  # committed: the collapsed 0.1


def test_pilot_pick_read_with_looser_bounds_says_whether_it_holds():
    from grokkit.pilots import PILOT_LOSS_SWEEP, PILOT_SHIFT_SWEEP, pick_sweep

    def m(eff, loss, diverged=False):
        return _pilot(eff, loss, diverged=diverged)

    ref, lams = m(100.0, 0.09), (0.01, 0.1, 1.0, 10.0, 100.0)
    assert PILOT_LOSS_SWEEP[0] == 1.1 and 0.10 in PILOT_SHIFT_SWEEP
    # rank pushed down: 0.1 moves it 7 % (a 5 % shift would take it), 1 moves it 21 % within the loss bound
    down = dict(zip(lams, (m(99.0, .09), m(93.0, .09), m(79.0, .095), m(70.0, .15), m(20.0, .5))))
    picks = pick_sweep("nuclear_over_frobenius", down, ref)
    assert len(picks) == len(PILOT_LOSS_SWEEP) * len(PILOT_SHIFT_SWEEP)
    assert {k: v for k, v in picks.items() if v != 1.0} == {(lm, 0.05, "last"): 0.1 for lm in PILOT_LOSS_SWEEP}
    # the rank pushed down with its 1 breaking by one reading at the last step: a looser loss bound takes it
    tight = {**down, 1.0: m(79.0, .12)}
    assert pick_sweep("nuclear_over_frobenius", tight, ref)[(1.1, 0.1, "last")] is None
    assert pick_sweep("nuclear_over_frobenius", tight, ref)[(1.5, 0.1, "last")] == 1.0
    # read as the window's mean too, where the last reading was unlucky: the pick moves, and the words say where
    win = {lam: replace(v, train_loss_window=.09) for lam, v in tight.items()}
    picks = pick_sweep("nuclear_over_frobenius", win, replace(ref, train_loss_window=.09))
    assert len(picks) == 24 and picks[(1.1, 0.1, "window")] == 1.0 and picks[(1.1, 0.1, "last")] is None
    # rank held up: only 100 moves it; the pick holds everywhere
    up = dict(zip(lams, (m(100.0, .09), m(101.0, .09), m(104.0, .09), m(112.0, .09, True), m(130.0, .09))))
    assert set(pick_sweep("neg_spectral_entropy", up, ref).values()) == {100.0}  # it holds under every reading
    # until every strength is recorded, the sweep is not decided...
    # ... unless every combination's pick is below the strengths not run: those could not change any pick


def test_the_untreated_control_is_held_to_the_rank_storys_timing_tests(monkeypatch):
    """The shipped control's events: its climb starts at 43,355 / 42,688 / 44,022 and its paper-exact rank first
    falls at 46,690 / 46,690 / 48,024 (tolerance-robust: 44,022 / 44,022 / 32,683). Under the declared margin
    (3,335 steps) only seed 0 meets 'the rank falls at most the margin after the climb starts'."""

    keywords = {c.keyword for p in iv.PREDICTIONS.values() for st in p.values() for c in st.values()}
    assert keywords - {"none"} <= {"earlier", "unchanged", "later_or_never", "follows_rank", "falls", "stays_high",
                                   "falls_earlier", "falls_with_climb"}  # every test a verdict applies has a rule

    def m(onset, fall):
        return _measured(onset, fall, final_acc=0.95, norm_at_onset=200.0)

    control = [{"rank": m(43_355, 46_690), "robust_rank": m(43_355, 44_022)},
               {"rank": m(42_688, 46_690), "robust_rank": m(42_688, 44_022)},
               {"rank": m(44_022, 48_024), "robust_rank": m(44_022, 32_683)}]
    _patch(monkeypatch, "measure", lambda run, rd="rank": run[rd])
    timing = iv.control_timing(control)
    assert {k: v for k, v in timing.items() if k == "lags" or k[2] == 3335} == {
        ("falls_with_climb", "rank", 3335): (1, 3), ("follows_rank", "rank", 3335): (1, 3),
        ("falls_with_climb", "robust_rank", 3335): (3, 3), ("follows_rank", "robust_rank", 3335): (2, 3),
        "lags": [3_335, 4_002, 4_002]}
    # the one seed that meets the tests sits exactly on the declared margin: none with 667 steps, all with 6,670
    assert [timing["falls_with_climb", "rank", m] for m in (667, 6670)] == [(0, 3), (3, 3)]
    assert iv.control_timing([])["lags"] == []


def test_verdicts_are_read_again_with_the_margin_swept(monkeypatch):
    """One seed of the rank pushed down climbs 5,000 steps before the control's earliest seed (30,000), its rank
    falling 9,000 steps before the control's earliest fall (29,000): 'earlier' with a timing margin of 667 or 3,335
    steps, 'within the control's range' with 6,670; its rank falls earlier under every margin (a check, read again
    like the grades, in neither badge)."""

    def m(onset, fall):
        return _measured(onset, fall)

    assert iv.MARGIN_SWEEP == (RunConfig().log_period, iv.MARGIN_STEPS, 2 * iv.MARGIN_STEPS)
    assert iv.DECLARED == ("rank", 3335)
    control = [m(30_000, 29_000), m(33_000, 32_000), m(36_000, 35_000)]
    by_key = {"rank_down": [m(25_000, 20_000)]}
    # graded() on these measures: the records and the control stand in for their own measures
    _patch(monkeypatch, "measured_by_key", lambda recs, rd="rank": recs if recs else {})
    _patch(monkeypatch, "measure", lambda run, rd="rank": run)
    every = iv.graded(by_key, control)
    assert set(every) == {(rd, mg) for rd in ("rank", "robust_rank") for mg in iv.MARGIN_SWEEP}
    # the weight-norm story: its onset "unchanged" fails under the declared margin and holds under 6,670; its rank
    # "falls" is a check: did not hold, and held under the widest margin
    def flags(rd, margin, story):
        return [h for *_, res in every[rd, margin][1][story] for h in res]

    assert flags("rank", 3335, "norm") == [False] and flags("rank", 6670, "norm") == [True]
    # the rank story: "earlier" fails under 6,670 only ("falls earlier", a check, is in neither story's grade)
    assert flags("rank", 3335, "rank") == [True] and flags("rank", 6670, "rank") == [False]
    assert all(flags(rd, 6670, "rank") == [False] for rd in ("rank", "robust_rank"))
    title = "Rank pushed down"
    rows = ivt.verdict_rows(by_key, control)  # the declared reading: the rank story's "earlier" held on the seed
    assert rows == [(title, "norm", "climb", 0, 1), (title, "rank", "climb", 1, 1),
                    (title, "check", "rank", 1, 1), (title, "check", "rank", 1, 1)]
    # a check that moves under one rank definition at one margin is said as such; under it at every margin, once
    robust = {"rank_down": [m(25_000, None)]}
    every["robust_rank", 667] = (robust, iv.story_results(robust, control, 667))
    checks = iv.graded_checks(every, control)
    assert [r for t, kw, r in checks["robust_rank", 667] if kw == "falls_earlier"] == [[False]]
    assert [r for t, kw, r in checks["rank", 667] if kw == "falls_earlier"] == [[True]]
    for mg in iv.MARGIN_SWEEP:
        every["robust_rank", mg] = (robust, iv.story_results(robust, control, mg))
    checks = iv.graded_checks(every, control)
    assert all([r for t, kw, r in checks["robust_rank", mg] if kw == "falls_earlier"] == [[False]]
               for mg in iv.MARGIN_SWEEP)


def test_a_pilot_choice_stands_only_once_every_smaller_strength_is_recorded():
    from grokkit.pilots import pick_decided

    lams = (0.01, 0.1, 1.0, 10.0, 100.0)
    assert pick_decided(1.0, {0.01, 0.1, 1.0}, lams)
    assert not pick_decided(10.0, {0.01, 10.0}, lams)  # 0.1 and 1 missing
    assert not pick_decided(None, {0.01, 0.1}, lams)   # no choice yet, with strengths left to run
    assert pick_decided(None, set(lams), lams)         # none works, and every strength is recorded


def test_best_until_reads_the_best_accuracy_within_omnigroks_horizon():
    """best_until: the best of a history's readings at or before a step (Omnigrok reads each fixed-norm run this
    way, within 10,000 steps); a reading after the step does not count."""
    from types import SimpleNamespace

    run = SimpleNamespace(history={"step": np.array([0, 5_000, 10_000, 15_000]),
                                   "test_acc": np.array([0.1, 0.3, 0.2, 0.9])})
    assert ivt.best_until(run, "test_acc", ivt.OMNIGROK_FIXED_NORM["steps"]) == pytest.approx(0.3)
    assert ivt.best_until(run, "test_acc", 0) == pytest.approx(0.1)
    assert ivt.best_until(run, "test_acc", 20_000) == pytest.approx(0.9)


def test_collapsed_seeds_beside_healthy_ones_are_worded_and_read_again(monkeypatch):
    """Two seeds of the rank pushed down: seed 0 collapses at step 16,000 after its rank fell at 7,000 and never fits;
    seed 1 climbs with the control and its rank never falls. The verdicts grade seed 1's climb only and check both
    seeds' rank apart from the grades; the collapsed seed moves no badge, so the opening page adds nothing for it; a
    seed that climbs and then collapses is named; a collapsed seed whose rank never fell still carries the caveat."""

    def m(seed, onset, fall, fit=20_000, collapse=None):
        return _measured(onset, fall, seed=seed, fit_step=fit, collapse=collapse)

    gone = iv.Collapse(step=16_000, train_loss=0.09, constant_mse=0.09, train_acc=0.1)
    control = [m(0, 30_000, 29_000), m(1, 33_000, 32_000), m(2, 36_000, 35_000)]
    by_key = {"rank_down": [m(0, None, 7_000, None, gone), m(1, 33_000, None)]}
    _patch(monkeypatch, "measured_by_key", lambda recs, rd="rank": recs if recs else {})
    _patch(monkeypatch, "measure", lambda run, rd="rank": run)
    # seed 1 alone is graded on its climb; both seeds' rank is checked: it fell, and early, on seed 0 only
    assert ivt.verdict_rows(by_key, control) == [
        ("Rank pushed down", "norm", "climb", 1, 1), ("Rank pushed down", "rank", "climb", 0, 1),
        ("Rank pushed down", "check", "rank", 1, 2), ("Rank pushed down", "check", "rank", 1, 2)]
    # the rank story: "earlier" fails on seed 1 ("falls earlier" is a check): did not hold, with or without the
    # collapsed seed, which tests no prediction of either story



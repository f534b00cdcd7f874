"""Beyond the paper: does the feature rank drive generalization? Four interventions on d = 12, N = 5000, γ = 0.01
(issue 26), and what each story predicts for them, stated before any intervention run.

The two stories:
- the weight-norm story [OG]: "training and test losses (against model weight norm) typically resemble 'L' and
  'U'" (the LU mechanism); weight decay shrinks the large initial norm (α = 8) into the region where the network
  generalizes, and the grokking delay is the time it takes;
- the rank story [DG]: generalization comes with compressed, low-rank internal features ("feature rank could serve
  as a more promising indicator ... compared to the weight-norm" [DG §3]).

PREDICTIONS is the single statement of the predictions (the chapter renders it, the verdicts will read it). Each
cell is (keyword, words): the keyword is what a verdict will test, the words are for a reader.
Onset keywords (the start of the test climb, grokkit.events.climb_onset_step, against the control's seeds):
  "earlier", "unchanged", "later_or_never", "follows_rank" (wherever the rank falls: the story ties the onset to
  the rank, not to the intervention).
Rank keywords (the mean hidden-layer rank): "falls", "falls_earlier", "stays_high", "falls_with_climb" (a climb
  comes only with a rank fall at or before its start), "none" (the story says nothing about the rank).
"""
from __future__ import annotations

# The four interventions, in the chapter's order: key -> (title, what is done)
INTERVENTIONS = {
    "norm_init": ("Norm held at its initial value",
                  "after every step, all parameters (weights and biases) are rescaled so that the total weight norm "
                  "equals its value at initialization; weight decay can no longer shrink it"),
    "norm_low": ("Norm held low from the start",
                 "at initialization and after every step, all parameters are rescaled to a fixed norm: the control's "
                 "weight norm at its start of the test climb (the median over its seeds)"),
    "rank_down": ("Rank pushed down",
                  "a penalty λ × (nuclear norm / Frobenius norm of the centred batch features), averaged over the "
                  "hidden layers, is added to the MSE loss; it is scale-free, so it does not act on the norm"),
    "rank_up": ("Rank held up",
                "a penalty λ × (negative spectral entropy of the batch feature covariance), averaged over the hidden "
                "layers, is added to the MSE loss; it rewards a spread-out spectrum; weight decay shrinks the norm as "
                "usual"),
}

# "Earlier" / "later": a start of the test climb before the earliest of the control's seeds, or after the latest, by
# more than this margin; "unchanged": inside that band; "never": no climb within the run. One paper rank interval (5
# log points of 667 steps at 1e5 steps [DG-code]), stated with the predictions, before any intervention run.
MARGIN_STEPS = 3335

STORIES = {"norm": "weight-norm story (Omnigrok)", "rank": "rank story (Deep Grokking)"}

# intervention -> story -> {"onset": (keyword, words), "rank": (keyword, words)}; stated before any run (issue 26)
PREDICTIONS = {
    "norm_init": {
        "norm": {"onset": ("later_or_never", "never within 10⁵ steps, or much later than the control: the norm "
                                             "never shrinks into the region where the control began to climb"),
                 "rank": ("none", "no prediction")},
        "rank": {"onset": ("follows_rank", "wherever the rank falls: about the control's step if the rank still "
                                           "falls as in the control, never if it does not fall"),
                 "rank": ("falls_with_climb", "a climb comes only with a rank fall, at or before its start")},
    },
    "norm_low": {
        "norm": {"onset": ("earlier", "earlier, without the grokking delay: the network sits in the generalizing "
                                      "region from the start, so the climb begins as the training set is fit"),
                 "rank": ("none", "no prediction")},
        "rank": {"onset": ("follows_rank", "wherever the rank falls: earlier only if the rank falls earlier"),
                 "rank": ("falls_with_climb", "a climb comes only with a rank fall, at or before its start")},
    },
    "rank_down": {
        "norm": {"onset": ("unchanged", "unchanged: the penalty is scale-free and weight decay shrinks the norm as "
                                        "in the control, so the climb starts when the norm reaches the control's "
                                        "norm at its start of the climb"),
                 "rank": ("falls", "falls (the penalty forces it), without moving the onset")},
        "rank": {"onset": ("earlier", "earlier: the low-rank features generalization needs come sooner"),
                 "rank": ("falls_earlier", "falls earlier than in the control")},
    },
    "rank_up": {
        "norm": {"onset": ("unchanged", "unchanged: the norm still shrinks under weight decay as in the control"),
                 "rank": ("stays_high", "stays high (the penalty holds it), without stopping the climb")},
        "rank": {"onset": ("later_or_never", "later, or never: the features cannot compress"),
                 "rank": ("stays_high", "stays high; a climb with a high rank would contradict the story")},
    },
}


def predictions_md() -> str:
    """The predictions as a Markdown table: one row per intervention, per story its onset and its rank."""
    head = ("| intervention | weight-norm story: start of the test climb | weight-norm story: rank | "
            "rank story: start of the test climb | rank story: rank |")
    rows = [head, "|---|---|---|---|---|"]
    for key, (title, _) in INTERVENTIONS.items():
        p = PREDICTIONS[key]
        rows.append(f"| **{title}** | {p['norm']['onset'][1]} | {p['norm']['rank'][1]} | {p['rank']['onset'][1]} "
                    f"| {p['rank']['rank'][1]} |")
    return "\n".join(rows)


def interventions_md() -> str:
    """The four interventions in words, a numbered Markdown list."""
    return "\n".join(f"{i}. **{title}**: {what}." for i, (title, what) in enumerate(INTERVENTIONS.values(), 1))

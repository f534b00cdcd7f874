"""The paper's figures beside ours: each figure's caption, quoted, and a link to it in the paper's arXiv HTML version.

Fan, Pascanu, Jaggi 2024, "Deep Grokking: Would Deep Neural Networks Generalize Better?", arXiv 2405.19454v1 (the
only version). The captions are quoted word for word as the arXiv HTML gives them (typos included; LaTeX such as
$|D^{train}|$ written as plain text). The paper's images are never copied: the book links to them.

The anchors follow the arXiv HTML (LaTeXML) convention `#S<section>.F<figure>`, the section being the one whose
source holds the figure. The sections here are inferred from where each caption falls in the HTML text (Fig 1 in the
introduction, §1; Fig 2 after the setup paragraphs of §2; Figs 3-5 among the results of §3; Figs 6-7 after the
weight-decay paragraph of §4); they have not been checked against the page itself. A wrong anchor opens the paper
at its top, so the link still leads to the right document; fix SECTION after checking a link in a browser.
"""
from __future__ import annotations

from dataclasses import dataclass

ARXIV_ID = "2405.19454"
HTML_URL = f"https://arxiv.org/html/{ARXIV_ID}v1"
SECTION = {1: 1, 2: 2, 3: 3, 4: 3, 5: 3, 6: 4, 7: 4}  # figure -> section of its source (inferred, see above)
D_TRAIN = "|Dᵗʳᵃⁱⁿ|"  # the paper's $|D^{train}|$, the training-set size N


@dataclass(frozen=True)
class PaperFigure:
    number: int
    title: str    # the caption's bold lead-in
    caption: str  # the rest of the caption

    @property
    def url(self) -> str:
        """The figure in the paper's arXiv HTML (anchor inferred, see the module docstring)."""
        return f"{HTML_URL}#S{SECTION[self.number]}.F{self.number}"


FIGURES = {f.number: f for f in [
    PaperFigure(1, f"Generalization behaviors and internal feature learning of a 12-layer MLP network given various "
                   f"amount of training data ({D_TRAIN}).",
                "Middle row depicts training (blue curve) and test accuracy (orange curve) along training steps. "
                "Top/Bottom row denotes per-layer feature ranks/linear probing accuracy respectively. Left.&Center. "
                "Grokking-Rank Descent: On small training set, the test accuracy started to increase after the "
                "training accuracy reaches the optimal, which corresponds to the feature ranks started to decrease. "
                "Right. Grokking-Rank Double Descent: On a larger training set, the test accuracy increases in "
                "parallel with the training accuracy, which corresponds to an increment of feature rank. However, it "
                "shows a second surge after training accuracy reaches its optimal, corresponding to a second descent "
                "of the feature ranks. For all three cases, the increasing of test accuracy always correspond to the "
                "increasing of linear probe accuracy across all layers. Different colors of feature ranks represent "
                "different layers."),
    PaperFigure(2, "Generalization behaviors of various depth of MLP models.",
                f"Top. Grokking: On small training set ({D_TRAIN}=5000), both the improvement of training (blue curve) "
                f"and test (orange curve) accuracy would be delayed as the depth of the model increase. Bottom. "
                f"Multi-stage Generalization: On a larger training set ({D_TRAIN}=7000), the deep (8- and 12-layer) "
                f"MLP models exhibit a 2-stage generalization, where the test accuracy experiences a second surge. The "
                f"2-stage generalization phenomenon is also correlated to a double-descent of feature rank "
                f"(Fig. 1, c)."),
    PaperFigure(3, f"Emergence of Tunnel on various depth of models ({D_TRAIN}=5000).",
                "Left. 4-layer MLP: least extent of grokking with tunnel_length=1layer; Middle. 8-layer MLP: more "
                "grokking than 4-layer model with tunnel_length=3layer; Right. 12-layer MLP: the most severe grokking "
                "with tunnel_length=6layer. We consider the layer with output feature rank lower than 300 as a tunnel "
                "layer."),
    PaperFigure(4, f"Emergence of Tunnel on various depth of models ({D_TRAIN}=7000).",
                "Left. 4-layer MLP: grearly generalize with no grokking with tunnel_length=1layer; Middle. 8-layer "
                "MLP: two-stage generalization with tunnel_length=5layer; Right. 12-layer MLP: two-stage "
                "generalization with delays in both generalization stages, tunnel_length=6layer. We consider the "
                "layer with output feature rank lower than 300 as a tunnel layer."),
    PaperFigure(5, "Trajectories of train/test accuracy, weight-norm and feature-rank.",
                "Top-left: the train and test accuracies. The dotted lines stand for test accuracies; Top-right: the "
                "trajectories of the weight-norms, defined as the magnitude of L2-norm of all the model parameters. "
                "Bottom: we present the feature rank curve from the second-last layer (the layer before output "
                "layer). When trained on various scales of training data, the trajectories of the weight-norms are "
                "largely overlapping while the feature-ranks exhibit significant differences indicating the phase "
                "transitions. The finding holds across various depths of models (d=4,8,12)."),
    PaperFigure(6, f"Generalization behaviors with various weight decay on {D_TRAIN}=2000.",
                "Left. γ=0.005: Fail to Generalize; Middle. γ=0.01: Grokking; Right. γ=0.05: Two-stage "
                "Generalization."),
    PaperFigure(7, f"Generalization behaviors with various weight decay on {D_TRAIN}=5000.",
                "Left. γ=0.005: Generalize without grokking; Middle. γ=0.01: Grokking; Right. γ=0.05: Two-stage "
                "Generalization."),
]}


def paper_figure(number: int) -> PaperFigure:
    """The paper's Figure `number` (1..7). ValueError for any other number."""
    if number not in FIGURES:
        raise ValueError(f"figure: the paper has Figures 1-{max(FIGURES)}, got {number!r}")
    return FIGURES[number]


def paper_figure_md(number: int, panels: str = "") -> str:
    """A Markdown block quoting the paper's caption of Figure `number`, with a link to the figure in the arXiv HTML,
    for a chapter to show before our version of the figure. `panels` (e.g. "a–c") narrows the heading."""
    f = paper_figure(number)
    which = f"Figure {number}" + (f" ({panels})" if panels else "")
    return (f"> **The paper's {which}** ([open it in the paper's HTML version]({f.url})): "
            f"\"**{f.title}** {f.caption}\" — Fan, Pascanu, Jaggi 2024")

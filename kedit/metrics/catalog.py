"""The metrics a spec may ask for: name, direction and what each measures (and each other value it
reports), and the module that computes it (imported only when a run computes the metric). No
engine here: ``kedit validate``, ``kedit schema``, ``kedit diff`` and ``kedit report`` read this table."""

from kedit.metrics.base import Output, declare_metric

REWRITE = "kedit.metrics.rewrite"


def _rewrite(name: str, description: str) -> None:
    """A rewrite metric, which also reports ``name_before``: its value on the unedited model."""
    declare_metric(name, True, description, REWRITE, outputs={f"{name}_before": Output(f"{description}, on the unedited model (what an edit starts from)")})


_rewrite("efficacy", "token accuracy of the new object after the edit prompt")
_rewrite("paraphrase", "token accuracy of the new object after the paraphrase prompts")
_rewrite("efficacy_exact", "share of edit prompts after which greedy decoding gives the whole new object")
_rewrite("paraphrase_exact", "share of paraphrase prompts after which greedy decoding gives the whole new object")
declare_metric("efficacy_prob", True, "share of edit prompts with P(new object) > P(old object)", REWRITE)
declare_metric("paraphrase_prob", True, "share of paraphrase prompts with P(new object) > P(old object)", REWRITE)
declare_metric("specificity", True, "share of neighbourhood-prompt tokens whose prediction the edit leaves unchanged", REWRITE)
declare_metric(
    "akd", True, "average pairwise L2 distance of the batch's keys (mean over edited layers)", "kedit.metrics.akd",
    outputs={
        "akd_layer_*": Output("AKD at one edited layer"),
        "akd_collisions": Output("pairs of edits whose keys coincide (closer than 1e-3 x the mean key norm), at the edited layer with the most", count=True),
    },
)

"""The metrics a spec may ask for: name, direction and what each measures, and the module that
computes it (imported only when a run computes the metric). No engine here: ``kedit
validate``, ``kedit schema`` and ``kedit diff`` read this table."""

from kedit.metrics.base import declare_metric

REWRITE = "kedit.metrics.rewrite"
declare_metric("efficacy", True, "token accuracy of the new object after the edit prompt", REWRITE)
declare_metric("paraphrase", True, "token accuracy of the new object after the paraphrase prompts", REWRITE)
declare_metric("efficacy_exact", True, "share of edit prompts after which greedy decoding gives the whole new object", REWRITE)
declare_metric("paraphrase_exact", True, "share of paraphrase prompts after which greedy decoding gives the whole new object", REWRITE)
declare_metric("efficacy_prob", True, "share of edit prompts with P(new object) > P(old object)", REWRITE)
declare_metric("paraphrase_prob", True, "share of paraphrase prompts with P(new object) > P(old object)", REWRITE)
declare_metric("specificity", True, "share of neighbourhood-prompt tokens whose prediction the edit leaves unchanged", REWRITE)
declare_metric("akd", True, "average pairwise L2 distance of the batch's keys (mean over edited layers)", "kedit.metrics.akd")

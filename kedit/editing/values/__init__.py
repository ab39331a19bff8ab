"""Target values: the module outputs that make the model say the new objects.

For each *group* of requests one delta per site is optimised, added at the subject's
last token of every row of the group at layer ``layer``. MEMIT uses groups of one;
MEMIT-Merge groups by subject, so facts that share a key share a value and their
losses are summed. All groups are optimised together, one forward/backward per step:

- rows (``rows``): every (request, context template) with its target, plus one KL row per group;
- loss of a group (``loss``): sum over its facts of the fact's NLL (mean over its context
  rows, each row's NLL averaged over target tokens), plus ``kl_factor`` x KL(current || initial)
  of the next-token distribution after the subject on the KL prompt, plus
  ``v_weight_decay`` x ||delta|| / ||initial value||^2 (MEMIT's form);
- a group stops (is masked out, its delta frozen) once its NLL per fact + KL + decay
  falls below ``early_stop_loss``; MEMIT's per-edit loop breaks at the same test (``optimise``);
  with ``early_stop_on="nll"`` once its NLL per fact alone does (``STOP_MEASURES``);
- after each Adam step each delta is clamped to ``clamp_norm_factor`` x ||initial value||.

Adam is element-wise and the rows of a batch do not interact, so each group follows the
trajectory it would follow if optimised alone (up to float rounding; see the tests).

The blocks below ``layer`` do not depend on the deltas: their output is computed once
(``first_pass``) and replayed, and so are the keys/values of every position before the
subject's last token. Each step recomputes only the rows' tails (subject's last token
onwards), packed side by side into lines as wide as the longest tail (``passes``, over
``kedit.models.prefix.pack_tails``): one pass of long matrix products instead of many
padded short ones. Tokens that rows of a group share (the subject token of every fact of a
merged group and of its KL row, and "'s" after it; ``trees``) are computed once.
``reuse_frozen=False`` recomputes whole rows through every block at every step instead, as
the reference implementations do (their per-edit loop is ``reference_loop`` in
``optimisers``; benchmarks compare against it). The forward stops at
``loss_layer``, whose output goes through the final norm and the head at the target
positions only (``model_parts``).

Modules, in the order a call runs through them: ``settings`` (inputs, result, error),
``model_parts``, ``rows``, ``trees``, ``first_pass``, ``passes``, ``loss``, ``optimise``, ``optimisers``.
"""

from kedit.editing.values.optimise import optimize_values
from kedit.editing.values.optimisers import VALUE_OPTIMISERS, optimize_values_one_by_one
from kedit.editing.values.rows import PASS_OVERHEAD_TOKENS, first_pass_batches, tail_length
from kedit.editing.values.settings import NonFiniteError, ValueResult, ValueSettings

__all__ = [
    "PASS_OVERHEAD_TOKENS",
    "VALUE_OPTIMISERS",
    "NonFiniteError",
    "ValueResult",
    "ValueSettings",
    "first_pass_batches",
    "optimize_values",
    "optimize_values_one_by_one",
    "tail_length",
]

"""The rows the value optimiser runs, and how the first pass cuts them into batches.

Text only: no model, no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from kedit.editing.requests import EditRequest
from kedit.editing.tokens import TextRow, subject_row


class RowRole(NamedTuple):
    """What one row stands for in its group's loss."""

    group: int
    weight: float  # of the row's NLL in its group's sum: 1 / rows of its fact (0 for the KL row)
    is_kl: bool  # the group's KL row
    is_init: bool  # the row whose site outputs are the group's initial values (first fact, bare prompt)


def build_rows(requests: Sequence[EditRequest], groups: Sequence[Sequence[int]], templates: Sequence[str], kl_prompt: str) -> tuple[list[TextRow], list[RowRole]]:
    """Rows of all groups, group after group: every (fact, context template) with its
    target, then the group's KL row; and the role of each row.

    A KL row ends at the subject: the KL term is read at the subject's last token, which
    by causality does not see the rest of the KL prompt.
    """
    rows, roles = [], []
    for g, members in enumerate(groups):
        for n, i in enumerate(members):
            r = requests[i]
            for k, t in enumerate(templates):
                rows.append(subject_row(t.format(r.prompt), r.subject, r.target_new))
                roles.append(RowRole(g, 1.0 / len(templates), False, n == 0 and k == 0))
        kl = subject_row(kl_prompt, requests[members[0]].subject)
        rows.append(TextRow(prefix=kl.prefix[: kl.subject[1]], subject=kl.subject))
        roles.append(RowRole(g, 0.0, True, False))
    return rows, roles


# What one more forward/backward pass costs beyond its tokens (hooks, kernel launches), in
# padded tail tokens; measured on CPU, where a pass of ~50 tokens is overhead-bound.
PASS_OVERHEAD_TOKENS = 48


def tail_length(tok, row: TextRow) -> int:
    """Tokens of ``row`` from the subject's last token to its end: what a pass recomputes."""
    return len(tok(row.prefix + row.target)["input_ids"]) - len(tok(row.prefix[: row.subject[1]])["input_ids"]) + 1


def first_pass_batches(tok, rows: Sequence[TextRow], tokens_per_pass: int) -> list[list[int]]:
    """Row indices cut into passes that minimise the padded tail tokens computed.

    A row's tail runs from the subject's last token to its end; a pass pads every row to
    its longest tail. Rows sorted by tail length are split into contiguous passes by
    dynamic programming over cost = rows x longest tail + ``PASS_OVERHEAD_TOKENS``, each
    pass holding at most ``tokens_per_pass`` padded tokens (a longer row goes alone).
    """
    tails = [tail_length(tok, r) for r in rows]
    order = sorted(range(len(rows)), key=lambda i: tails[i])
    length = [tails[i] for i in order]
    best = [0.0] + [float("inf")] * len(order)  # best[j]: cheapest cut of order[:j]
    start = [0] * (len(order) + 1)
    for j in range(1, len(order) + 1):
        for i in range(j - 1, -1, -1):  # last pass = order[i:j], padded to length[j - 1]
            if i < j - 1 and (j - i) * length[j - 1] > tokens_per_pass:
                break
            cost = best[i] + (j - i) * length[j - 1] + PASS_OVERHEAD_TOKENS
            if cost < best[j]:
                best[j], start[j] = cost, i
    parts, j = [], len(order)
    while j > 0:
        parts.append(order[start[j] : j])
        j = start[j]
    return parts[::-1]

"""kedit.editing.values.trees: which tail tokens are one computation."""

from __future__ import annotations

import torch

from kedit.editing.tokens import encode_rows, subject_row
from kedit.editing.values.trees import TailTrees


def nodes_of(trees, tokenizer, rows, groups, cut_at_subject=True):
    enc = encode_rows(tokenizer, rows)
    start = enc.subject_pos if cut_at_subject else torch.zeros_like(enc.subject_pos)
    return trees.nodes(
        enc.input_ids,
        enc.attention_mask.sum(1),
        start,
        enc.subject_pos,
        torch.tensor(groups),
    ), enc


def test_tokens_of_one_group_that_agree_up_to_them_share_a_node_and_no_others_do(
    tokenizer,
):
    rows = [
        subject_row("{}'s birthplace is", "John Smith", "Tokyo"),
        subject_row("{}'s employer is", "John Smith", "Google"),
        subject_row("{} is a", "John Smith"),  # a KL row: the subject alone
        subject_row("{}'s birthplace is", "John Smith", "Tokyo"),  # another group
        subject_row(
            "Hello there. {}'s birthplace is", "John Smith", "Tokyo"
        ),  # another prefix
    ]
    rows[2] = type(rows[2])(
        prefix=rows[2].prefix[: rows[2].subject[1]], subject=rows[2].subject
    )
    trees = TailTrees()
    node, enc = nodes_of(trees, tokenizer, rows, [0, 0, 0, 1, 0])
    tail = enc.attention_mask.sum(1) - enc.subject_pos
    assert ((node >= 0).sum(1) == tail).all() and (
        node[torch.arange(node.shape[1])[None] >= tail[:, None]] == -1
    ).all()
    assert node[0, 0] == node[1, 0] == node[2, 0]  # the subject's last token
    assert node[0, 1] == node[1, 1]  # "'s"
    assert node[0, 2] != node[1, 2]  # " birthplace" / " employer"
    other_group, other_prefix = (
        set(node[3].tolist()) - {-1},
        set(node[4].tolist()) - {-1},
    )
    assert not other_group & set(
        node[:3].flatten().tolist()
    ) and not other_prefix & set(node[:4].flatten().tolist())
    # ids hold across calls (the first pass's batches): the same row again gets the same nodes
    again, _ = nodes_of(trees, tokenizer, rows[:1], [0])
    assert torch.equal(again[0], node[0, : again.shape[1]])


def test_whole_rows_share_only_where_the_delta_goes_in_at_the_same_token(tokenizer):
    """Without a cached prefix (sliding windows) a tail starts at the row's first token; rows
    of one group that agree up to there share, but only with the subject at the same place."""
    rows = [
        subject_row("{}'s birthplace is", "John Smith", "Tokyo"),
        subject_row("{}'s employer is", "John Smith", "Google"),
        subject_row("{}'s employer is", "John", "Google"),
    ]
    node, enc = nodes_of(TailTrees(), tokenizer, rows, [0, 0, 0], cut_at_subject=False)
    s = int(enc.subject_pos[0])
    assert torch.equal(node[0, : s + 2], node[1, : s + 2])
    assert not set(node[2].tolist()) - {-1} & set(
        node[:2].flatten().tolist()
    )  # "John" ends the subject earlier

"""kedit.models.prefix: tails recomputed against a cached prefix, packed several to a line."""

from __future__ import annotations

import pytest
import torch

from kedit.models.architecture import get_module


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("together", [False, True], ids=["row_per_line", "packed"])
def test_recomputing_only_the_tails_matches_the_full_forward(tiny, together, attention):
    """Positions before the subject's last token are cached; the tails attend to them, one
    row per line or packed several to a line under a block mask, rows taken from two splits."""
    from transformers import DynamicCache

    from kedit.editing.tokens import encode_rows, subject_row
    from kedit.models.prefix import (
        cache_argument,
        cache_contents,
        gather_tails,
        pack_tails,
        split_rows,
    )

    if attention == "sdpa" and not tiny.model._supports_sdpa:
        pytest.skip(f"{tiny.arch.model_type} has no SDPA attention")
    tiny.model.set_attn_implementation(attention)
    backbone = get_module(tiny.model, tiny.arch.backbone)
    texts = [
        [("The quick fox. {}'s birthplace is", "John Smith", "Tokyo"), ("{} is a", "Alice Brown", ""), ("I think. {}'s employer is", "Danielle Darrieux", "Google")],
        [("{} is a", "Thomas Ong", ""), ("{}'s occupation is", "Bob Jones", "actor"), ("The name of the father of {} is", "John Smith", "Mark Twain")],
    ]
    splits, wants, picked = [], [], [torch.tensor([0, 1, 2]), torch.tensor([0, 2])]
    for part in texts:
        enc = encode_rows(tiny.tokenizer, [subject_row(t, s, o) for t, s, o in part])
        cache = DynamicCache()
        full = backbone(input_ids=enc.input_ids, attention_mask=enc.attention_mask, **{cache_argument(tiny.model): cache, "use_cache": True}).last_hidden_state
        splits.append(split_rows(enc.input_ids, enc.attention_mask, enc.subject_pos, cache_contents(cache), 0))
        wants.append(gather_tails(full, enc.subject_pos, enc.attention_mask.sum(1)))
    packed = pack_tails(splits, picked, together, torch.float32, 0)
    lines = packed.input_ids.shape[0]
    assert lines < 5 if together else lines == 5  # the 1-token tails share lines with longer ones
    tails = backbone(**packed.forward_kwargs(tiny.model)).last_hidden_state
    for want, (b, j, line, col) in zip(wants, packed.places):
        # float32: the cached prefix and the block mask sum attention in another order than the full
        # forward: measured at most 1.25e-6 on states up to 3.3 (gemma3_text, packed, eager); a
        # token that saw another row's prefix or the wrong positions is O(1) off
        torch.testing.assert_close(tails[line, col], want[b, j], rtol=0, atol=1e-5)


def test_rows_share_lines_without_overlapping_and_a_lines_cache_stays_within_the_longest_row():
    from kedit.models.prefix import line_layout

    tails, prefixes = [6, 4, 2] + [1] * 40, [2, 5, 1] + [3] * 40
    line, col, slot, n_lines = line_layout(tails, prefixes, together=True)
    width, room = 6, 12  # the longest tail; twice the longest prefix (5) or the width, whichever is more
    for n in range(n_lines):
        rows = [r for r in range(len(tails)) if line[r] == n]
        cols = sorted((col[r], col[r] + tails[r]) for r in rows)
        keys = sorted((slot[r], slot[r] + prefixes[r]) for r in rows)
        assert all(a[1] <= b[0] for a, b in zip(cols, cols[1:])) and cols[-1][1] <= width
        assert all(a[1] <= b[0] for a, b in zip(keys, keys[1:])) and keys[-1][1] <= room
    assert n_lines < len(tails)
    assert line_layout(tails, prefixes, together=False)[3] == len(tails)


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_tokens_rows_share_are_computed_once_and_each_row_reads_what_its_full_forward_gives(tiny, attention):
    """Rows of one subject cut at its last token: that token and "'s" are one node of the
    tree; every row's every tail token, read at its column, is its full forward's state."""
    from transformers import DynamicCache

    from kedit.editing.tokens import TextRow, encode_rows, subject_row
    from kedit.editing.values.trees import TailTrees
    from kedit.models.prefix import cache_argument, cache_contents, gather_tails, pack_tails, split_rows

    if attention == "sdpa" and not tiny.model._supports_sdpa:
        pytest.skip(f"{tiny.arch.model_type} has no SDPA attention")
    tiny.model.set_attn_implementation(attention)
    backbone = get_module(tiny.model, tiny.arch.backbone)
    kl = subject_row("{} is a", "John Smith")
    rows = [subject_row(t, "John Smith", o) for t, o in [("{}'s birthplace is", "Tokyo"), ("{}'s employer is", "Google"), ("{}'s occupation is", "actor")]]
    rows += [TextRow(prefix=kl.prefix[: kl.subject[1]], subject=kl.subject), subject_row("{}'s birthplace is", "Alice Brown", "Paris")]
    enc = encode_rows(tiny.tokenizer, rows)
    cache = DynamicCache()
    full = backbone(input_ids=enc.input_ids, attention_mask=enc.attention_mask, **{cache_argument(tiny.model): cache, "use_cache": True}).last_hidden_state
    lengths = enc.attention_mask.sum(1)
    split = split_rows(enc.input_ids, enc.attention_mask, enc.subject_pos, cache_contents(cache), 0)
    nodes = TailTrees().nodes(enc.input_ids, lengths, enc.subject_pos, enc.subject_pos, torch.zeros(len(rows), dtype=torch.long))
    packed = pack_tails([split], [torch.arange(len(rows))], True, torch.float32, 0, nodes=[nodes])
    tails = backbone(**packed.forward_kwargs(tiny.model)).last_hidden_state
    want = gather_tails(full, enc.subject_pos, lengths)
    n_tail = (lengths - enc.subject_pos).tolist()
    real = packed.cols >= 0
    columns = set(zip(packed.line[:, None].expand_as(packed.cols)[real].tolist(), packed.cols[real].tolist()))
    assert len(columns) < sum(n_tail)
    for r, n in enumerate(n_tail):
        # tolerance as in the test above: a token that saw another branch of its tree is O(1) off
        torch.testing.assert_close(tails[packed.line[r], packed.cols[r, :n]], want[r, :n], rtol=0, atol=1e-5)


def test_a_tree_is_split_into_parts_no_wider_than_the_width_chosen_and_wide_lines_cost_keys():
    from kedit.models.prefix import _tree_parts

    # one subject, 20 facts of 8 tokens sharing their first two; a second subject of 3 facts
    paths = [torch.tensor([0, 1] + [100 + 6 * f + k for k in range(6)]) for f in range(20)]
    paths += [torch.tensor([2, 3] + [500 + 6 * f + k for k in range(6)]) for f in range(3)]
    for key_cost, widest in ((0.0, 64), (1.0, 8)):
        part = _tree_parts(paths, [3] * len(paths), key_cost)
        for n in set(part):
            members = [paths[r] for r in range(len(paths)) if part[r] == n]
            assert len({int(p[0]) for p in members}) == 1  # a part is rows of one tree
            assert len({int(x) for p in members for x in p}) <= widest
    assert len(set(_tree_parts(paths, [3] * len(paths), 1.0))) == len(paths)  # attention dear: no sharing wider than a row
    assert len(set(_tree_parts(paths, [3] * len(paths), 0.0))) < len(paths)

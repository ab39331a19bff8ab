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

"""kedit.metrics.scoring: rows packed into lines score as a plain forward of each row."""

from __future__ import annotations

import pytest
import torch


def test_scores_of_rows_packed_into_lines_are_those_of_a_plain_forward_of_each_row(tiny):
    from kedit.editing.tokens import TextRow, encode_rows, with_target
    from kedit.metrics.scoring import score

    texts = [("Danielle Darrieux's mother tongue is", "French"), ("The name of the father of John Smith is", "Mark Twain"),
             ("The capital of France is", ""), ("Alice Brown's occupation is", "painter"), ("I think", "you are right about the weather")]
    rows = [TextRow(prefix=p, target=with_target(p, t) if t else "") for p, t in texts]
    for row, got in zip(rows, score(tiny, rows)):
        enc = encode_rows(tiny.tokenizer, [row])
        logp = tiny.model(input_ids=enc.input_ids).logits[0].float().log_softmax(-1)
        pos = enc.pred_pos if row.target else enc.last_pos
        assert torch.equal(got.predicted, logp[pos].argmax(-1))
        want = float(logp[enc.pred_pos, enc.pred_target].sum()) if row.target else 0.0
        # measured identical on every tiny architecture; 1e-4 nats admits float32 reordering under
        # the block mask, while a row scored at a shifted position or on another's prefix is O(1) off
        assert got.logprob == pytest.approx(want, abs=1e-4)

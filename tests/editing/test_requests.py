"""Request validation and token positions."""

from __future__ import annotations

import pytest

from kedit.editing.requests import RequestError, make_requests
from kedit.editing.tokens import encode_rows, subject_row


def test_a_prompt_spelling_out_its_subject_becomes_a_template():
    (r,) = make_requests([dict(subject="Ada Lovelace", prompt="Ada Lovelace's father is", target_new="Lord Byron")])
    assert r.prompt == "{}'s father is" and r.text == "Ada Lovelace's father is"


def test_a_prompt_without_its_subject_is_rejected_with_its_index():
    raws = [dict(subject="A B", prompt="{} is", target_new="x"), dict(subject="Ada Lovelace", prompt="Her father is", target_new="Lord Byron")]
    with pytest.raises(RequestError, match=r"request 1: prompt 'Her father is' contains neither"):
        make_requests(raws)


@pytest.mark.parametrize("field", ["subject", "prompt", "target_new"])
def test_missing_or_empty_fields_are_named(field):
    raw = dict(subject="Ada Lovelace", prompt="{} is", target_new="x") | {field: ""}
    with pytest.raises(RequestError, match=rf"request 0: field '{field}'"):
        make_requests([raw])


def test_braces_around_a_literal_subject_survive_templating():
    (r,) = make_requests([dict(subject="X", prompt="{weird} X is", target_new="y")])
    assert r.text == "{weird} X is"


def test_subject_and_target_positions_follow_the_tokens(tokenizer):
    row = subject_row("The father of {} is", "John Smith", "Mark Twain")
    enc = encode_rows(tokenizer, [row])
    ids = enc.input_ids[0].tolist()
    toks = tokenizer.convert_ids_to_tokens(ids)
    assert "Smith" in toks[int(enc.subject_pos[0])]
    full = tokenizer(row.prefix + row.target)["input_ids"]
    # every target token is predicted from the position just before it, and is not fed itself
    assert enc.pred_target.tolist() == full[len(full) - len(enc.pred_target):]
    assert enc.pred_pos.tolist() == list(range(len(full) - len(enc.pred_target) - 1, len(full) - 1))
    assert len(ids) == len(full) - 1


def test_a_bos_token_does_not_shift_positions(tokenizer):
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(tokenizer_object=tokenizer.backend_tokenizer.__class__.from_str(tokenizer.backend_tokenizer.to_str()), eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    bos = tok.bos_token_id
    tok.backend_tokenizer.post_processor = TemplateProcessing(single="<|endoftext|> $A", special_tokens=[("<|endoftext|>", bos)])
    row = subject_row("{} is", "John Smith", "Tokyo")
    plain, with_bos = encode_rows(tokenizer, [row]), encode_rows(tok, [row])
    assert with_bos.input_ids[0, 0] == bos
    assert int(with_bos.subject_pos[0]) == int(plain.subject_pos[0]) + 1
    assert with_bos.pred_target.tolist() == plain.pred_target.tolist()

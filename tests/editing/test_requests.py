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


# Subjects are data, never format strings: braces in a subject or around it reach the model as written.
BRACED = ["Jean {} Dupont", "A}B", "A{B", "{x}", "A {} B}", "{0}", "}{", "{{}}"]


@pytest.mark.parametrize("subject", BRACED)
def test_a_braced_subject_reaches_prompt_paraphrase_and_span_unchanged(subject):
    raw = dict(subject=subject, prompt="{}'s father is", target_new="Paul",
               paraphrase_prompts=[f"The father of {subject} is", "{} was born to"])
    (r,) = make_requests([raw])
    assert r.text == f"{subject}'s father is"
    assert r.paraphrase_prompts == (f"The father of {subject} is", f"{subject} was born to")
    row = subject_row(r.prompt, r.subject, r.target_new)
    assert row.prefix == r.text and row.prefix[row.subject[0]:row.subject[1]] == subject


@pytest.mark.parametrize("subject", BRACED)
def test_a_prompt_spelling_out_a_braced_subject_becomes_a_template(subject):
    (r,) = make_requests([dict(subject=subject, prompt=f"The father of {subject} is", target_new="Paul")])
    assert r.text == f"The father of {subject} is"
    row = subject_row(r.prompt, r.subject)
    assert row.prefix[row.subject[0]:row.subject[1]] == subject


def test_braces_in_the_prompt_text_are_kept_and_the_subject_span_is_right():
    (r,) = make_requests([dict(subject="S", prompt="{}'s {{}} is", target_new="x")])
    assert r.text == "S's {} is"
    row = subject_row(r.prompt, "S")
    assert row.subject == (0, 1) and row.prefix == "S's {} is"
    assert subject_row("{{}} and {}", "S").subject == (len("{} and "), len("{} and S"))


@pytest.mark.parametrize("prompt, why", [("A}B is {}", "Single '}'"), ("{} is {x}", "unknown field"), ("{0} is", "unknown field")])
def test_a_malformed_template_is_a_named_error_not_a_crash(prompt, why):
    with pytest.raises(RequestError, match=rf"request 0: prompt .* contains neither .*{why}"):
        make_requests([dict(subject="S", prompt=prompt, target_new="x")])


def test_a_built_dataset_with_braced_subjects_reads_back_verbatim(tmp_path):
    """`kedit data build` with a `}` or `{}` in the subject name writes rows that read back unchanged."""
    from kedit.data.builder import build_dataset
    from kedit.data.store import load_rows, write_dataset

    for name in ("Jean {} Dupont", "A {} B}", "A}B"):
        cfg = {"endpoint": "offline", "relations": {"sample": 2}, "subjects": {"policy": "same", "name": name}}
        rows = load_rows(write_dataset(build_dataset(cfg), tmp_path / "out"))
        for row, r in zip(rows, make_requests(rows)):
            assert r.text.startswith(name) and r.paraphrase_prompts == tuple(row["paraphrase_prompts"])


@pytest.mark.parametrize("field, value, why", [
    ("paraphrase_prompts", "The father of S is", "must be a list of strings"),
    ("paraphrase_prompts", [1], "must be a list of strings"),
    ("neighborhood_prompts", "Bob's father is", "must be a list"),
    ("target_true", 3, "must be a string or null"),
    ("meta", ["a"], "must be a mapping"),
])
def test_a_field_of_the_wrong_type_is_named_not_iterated(field, value, why):
    with pytest.raises(RequestError, match=rf"request 0: field '{field}' {why}"):
        make_requests([dict(subject="S", prompt="{} is", target_new="x", **{field: value})])


def test_every_bad_request_is_reported_up_to_a_limit():
    raws = [dict(subject="", prompt="{} is", target_new="x")] * 25 + [dict(subject="S", prompt="{} is", target_new="x"), "not a row"]
    with pytest.raises(RequestError) as err:
        make_requests(raws)
    text = str(err.value)
    assert text.startswith("26 bad requests:\n") and "request 0: field 'subject'" in text and "request 19:" in text
    assert "request 20:" not in text and "... and 6 more" in text
    assert err.value.problems[-1] == "request 26: expected a mapping of request fields, got str"

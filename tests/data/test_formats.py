"""Edit files in the literature's formats (CounterFact, zsRE, EasyEdit's records) read as kedit rows."""

from __future__ import annotations

import pytest

from kedit.data.formats import RowFormatError, convert_rows
from kedit.editing.requests import make_requests
from tests.data.records import COUNTERFACT

ZSRE = {
    "subject": "Watts Humphrey",
    "src": "What university did Watts Humphrey attend?",
    "pred": "Trinity College",
    "rephrase": "What university did Watts Humphrey take part in?",
    "alt": "University of Michigan",
    "answers": ["Illinois Institute of Technology"],
    "loc": "nq question: who played desmond doss father in hacksaw ridge",
    "loc_ans": "Hugo Weaving",
    "cond": "Trinity College >> University of Michigan || What university did Watts Humphrey attend?",
}

EASYEDIT = {
    "prompt": "The mother tongue of Danielle Darrieux is",
    "subject": "Danielle Darrieux",
    "target_new": "English",
    "ground_truth": "French",
    "rephrase_prompt": "Danielle Darrieux grew up speaking",
    "locality_prompt": ["The mother tongue of Léon Blum is", "Michel Rocard is a native speaker of"],
    "locality_ground_truth": ["French", "French"],
}


def test_counterfact_records_become_requests_checked_against_the_true_object():
    rows, fmt, skipped = convert_rows([COUNTERFACT])
    assert (fmt, skipped) == ("counterfact", [])
    (req,) = make_requests(rows)
    assert (req.subject, req.prompt, req.target_new, req.target_true, req.relation_id) == ("Danielle Darrieux", "The mother tongue of {} is", "English", "French", "P103")
    assert req.paraphrase_prompts == ("Danielle Darrieux grew up speaking",)
    assert [(n.prompt, n.target) for n in req.neighborhood] == [("The mother tongue of Léon Blum is", "French"), ("Michel Rocard is a native speaker of", "French")]
    assert dict(req.meta) == {"case_id": "7"}
    paired = {**COUNTERFACT, "neighborhood_prompts": [{"prompt": "The mother tongue of Léon Blum is", "target": "French"}]}
    (req,) = make_requests(convert_rows([paired])[0])
    assert [(n.prompt, n.target) for n in req.neighborhood] == [("The mother tongue of Léon Blum is", "French")]


def test_zsre_records_teach_the_alternative_answer_and_empty_ones_are_skipped():
    rows, fmt, skipped = convert_rows([ZSRE, {**ZSRE, "alt": ""}])
    assert (fmt, skipped, len(rows)) == ("zsre", [1], 1)
    (req,) = make_requests(rows)
    assert req.prompt == "What university did {} attend?"
    assert (req.target_new, req.target_true) == ("University of Michigan", "Illinois Institute of Technology")
    assert req.paraphrase_prompts == ("What university did Watts Humphrey take part in?",)
    assert [(n.prompt, n.target) for n in req.neighborhood] == [(ZSRE["loc"], "Hugo Weaving")]


def test_easyedit_records_with_lists_or_strings():
    (req,) = make_requests(convert_rows([EASYEDIT])[0])
    assert (req.prompt, req.target_new, req.target_true) == ("The mother tongue of {} is", "English", "French")
    assert [n.target for n in req.neighborhood] == ["French", "French"]
    single = {**EASYEDIT, "locality_prompt": "The capital of France is", "locality_ground_truth": "Paris", "rephrase_prompt": ["a", "b"], "ground_truth": ["French"]}
    (req,) = make_requests(convert_rows([single], "easyedit")[0])
    assert [(n.prompt, n.target) for n in req.neighborhood] == [("The capital of France is", "Paris")]
    assert req.paraphrase_prompts == ("a", "b") and req.target_true == "French"


def test_kedit_rows_pass_through():
    row = {"subject": "John Smith", "prompt": "{}'s birthplace is", "target_new": "Tokyo", "case_id": 3}
    assert convert_rows([row]) == ([row], "kedit", [])


def test_a_row_missing_a_field_of_its_format_is_named():
    broken = {**COUNTERFACT, "requested_rewrite": {k: v for k, v in COUNTERFACT["requested_rewrite"].items() if k != "target_new"}}
    with pytest.raises(RowFormatError, match=r"row 1 \(counterfact format\): missing field 'requested_rewrite.target_new.str'"):
        convert_rows([COUNTERFACT, broken])


def test_a_file_mixing_formats_names_the_first_row_that_differs():
    with pytest.raises(RowFormatError, match=r"row 1 \(counterfact format\): lacks the fields that mark the format"):
        convert_rows([COUNTERFACT, ZSRE])


def test_locality_lists_of_different_lengths_are_refused():
    with pytest.raises(RowFormatError, match="row 0 .*locality_prompt has 2 item.s. but locality_ground_truth 1"):
        convert_rows([{**EASYEDIT, "locality_ground_truth": ["French"]}])


def test_an_unknown_format_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown row format 'mquake'; known: counterfact, easyedit, kedit, zsre"):
        convert_rows([EASYEDIT], "mquake")


def test_a_row_that_is_not_a_mapping_is_named():
    with pytest.raises(RowFormatError, match="row 0: expected a mapping, got str"):
        convert_rows(["The mother tongue of Danielle Darrieux is English"])
    with pytest.raises(RowFormatError, match=r"row 1 \(zsre format\): expected a mapping, got list"):
        convert_rows([ZSRE, ["not", "a", "row"]])


def test_every_row_that_does_not_fit_is_named_by_its_place_in_the_file():
    rows = [COUNTERFACT, {**COUNTERFACT, "requested_rewrite": {}}, "a string", ZSRE] + [{"x": 1}] * 30
    with pytest.raises(RowFormatError) as err:
        convert_rows(rows, where=lambda i: f"cf.jsonl:{i + 2}")
    text = str(err.value)
    assert len(err.value.problems) == 33 and text.startswith("33 rows that do not fit the counterfact format:\n")
    assert "  cf.jsonl:3 (counterfact format): missing field 'requested_rewrite.target_true.str'" in text
    assert "  cf.jsonl:4 (counterfact format): expected a mapping, got str" in text
    assert "  cf.jsonl:5 (counterfact format): lacks the fields that mark the format" in text
    assert "... and 13 more" in text


@pytest.mark.parametrize("row, why", [
    ({**COUNTERFACT, "paraphrase_prompts": [["Danielle Darrieux grew up speaking"]]}, "paraphrase_prompts: expected a string or a list of strings"),
    ({**COUNTERFACT, "neighborhood_prompts": "The mother tongue of Léon Blum is"}, "neighborhood_prompts: expected a list"),
    ({**ZSRE, "answers": "Illinois Institute of Technology"}, None),
    ({**COUNTERFACT, "paraphrase_prompts": "Danielle Darrieux grew up speaking"}, None),
    ({**ZSRE, "answers": [3]}, "answers: expected a string or a list of strings"),
])
def test_a_string_where_a_list_is_meant_is_not_read_letter_by_letter(row, why):
    if why is None:
        (req,) = make_requests(convert_rows([row])[0])  # a single string is one item
        assert req.target_true in ("Illinois Institute of Technology", "French")
        assert req.paraphrase_prompts in (("What university did Watts Humphrey take part in?",), ("Danielle Darrieux grew up speaking",))
    else:
        with pytest.raises(RowFormatError, match=why):
            convert_rows([row])

"""``kedit validate --format github``: one GitHub Actions annotation per problem, escaped as
GitHub's workflow commands need, located at the problem's line; exit codes as for text."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kedit.cli import main
from kedit.spec.errors import Problem
from kedit.spec.output import annotation, escape_data, escape_property

BROKEN = Path(__file__).parent / "broken"
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("raw", "data", "prop"), [
    ("plain", "plain", "plain"),
    ("100% sure", "100%25 sure", "100%25 sure"),
    ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
    ("x: 1, y: 2", "x: 1, y: 2", "x%3A 1%2C y%3A 2"),
    ("%0A", "%250A", "%250A"),  # an escape already in the text is not taken for one
])
def test_escaping_follows_githubs_rules(raw, data, prop):
    assert escape_data(raw) == data
    assert escape_property(raw) == prop


def test_an_annotation_escapes_its_file_and_message_and_omits_an_unknown_line():
    located = annotation(Problem("specs/odd, name:1.yaml", "/seeds/1", 4, "50% of\nit"))
    assert located == "::error file=specs/odd%2C name%3A1.yaml,line=4,title=kedit validate::/seeds/1: 50%25 of%0Ait"
    assert annotation(Problem("specs/presets/../a.yaml", "", None, "gone")) == "::error file=specs/a.yaml,title=kedit validate::/: gone"


def _github(*paths) -> tuple[int, list[str]]:
    res = CliRunner().invoke(main, ["validate", "--format", "github", *map(str, paths)])
    return res.exit_code, res.stdout.splitlines()


def test_a_broken_spec_gives_an_annotation_at_its_line_and_exit_1():
    code, lines = _github(BROKEN / "seed_not_integer.yaml")
    assert code == 1
    assert lines == [
        f"::error file={escape_property(str(BROKEN / 'seed_not_integer.yaml'))},line=4,title=kedit validate::/seeds/1: 1.5 is not of type 'integer'",
        "1 spec file(s): 0 valid, 1 with errors",
    ]


def test_an_unreadable_spec_exits_2_and_valid_specs_give_only_the_summary():
    code, lines = _github(BROKEN / "not_utf8.yaml")
    assert code == 2 and lines[0].startswith(f"::error file={escape_property(str(BROKEN / 'not_utf8.yaml'))},line=3,title=kedit validate::/: not UTF-8")
    code, lines = _github(ROOT / "specs" / "same_subject.yaml")
    assert code == 0 and lines == ["1 spec file(s): 1 valid, 0 with errors"]

"""Edit requests: what to change, where the subject sits, and how to check it.

A request's ``prompt`` is a *subject template*: ``{}`` once, where the subject goes
("{}'s father is"), every literal brace doubled (``{{``, ``}}``), as in ROME's files. It is
parsed (:func:`split_template`), never passed to ``str.format``, and a subject is
always data: a subject with braces ("Jean {} Dupont", "A}B") reaches the model as written.
A prompt that spells the subject out instead is turned into that form. Paraphrase prompts
may use either form too. Neighbourhood prompts are about other subjects and carry the
answer the unedited model is checked against.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from kedit.util import problem_list


class RequestError(ValueError):
    """Malformed edit requests; the message names each one (the first
    :data:`~kedit.util.PROBLEMS_SHOWN`), ``problems`` holds them all."""

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(problem_list(self.problems, "bad requests"))


_formatter = string.Formatter()


def split_template(template: str) -> tuple[str, str]:
    """(text before the subject, text after it) of a subject template, braces unescaped.

    Raises ValueError saying why ``template`` is not one: a lone brace, a field other
    than ``{}``, or not exactly one ``{}``."""
    try:
        parts = list(_formatter.parse(template))
    except ValueError as err:
        raise ValueError(f"{err}; write a literal brace as '{{{{' or '}}}}'") from None
    fields = [(name, spec, conv) for _, name, spec, conv in parts if name is not None]
    for name, spec, conv in fields:
        if (name, spec, conv) != ("", "", None):
            written = "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
            raise ValueError(f"unknown field {written}: only {{}} marks the subject")
    if len(fields) != 1:
        raise ValueError(f"{len(fields)} '{{}}' slots, expected one")
    i = next(k for k, p in enumerate(parts) if p[1] is not None)
    return "".join(p[0] for p in parts[: i + 1]), "".join(p[0] for p in parts[i + 1 :])


def escape(text: str) -> str:
    """``text`` as literal template text: braces doubled."""
    return text.replace("{", "{{").replace("}", "}}")


def join_template(head: str, tail: str) -> str:
    """The subject template with literal ``head`` before the subject and ``tail`` after it."""
    return escape(head) + "{}" + escape(tail)


def fill(template: str, subject: str) -> str:
    """The sentence of a subject template with ``subject`` in its slot (verbatim)."""
    head, tail = split_template(template)
    return head + subject + tail


@dataclass(frozen=True)
class Neighbour:
    """An unrelated prompt and a continuation whose tokens are compared before/after the edit."""

    prompt: str
    target: str = ""


@dataclass(frozen=True)
class EditRequest:
    subject: str
    prompt: str  # a subject template: "{}" once, where the subject goes; literal braces doubled
    target_new: str
    target_true: str | None = None
    relation_id: str | None = None
    paraphrase_prompts: tuple[str, ...] = ()  # full sentences (subject already filled in)
    neighborhood: tuple[Neighbour, ...] = ()
    meta: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # ids etc. carried to reports

    @property
    def text(self) -> str:
        """The edit prompt with its subject filled in."""
        return fill(self.prompt, self.subject)

    def scored_prompts(self) -> list[tuple[str, str]]:
        """(prompt, metric) of every paraphrase and neighbourhood prompt scored for this edit."""
        return [(p, "paraphrase") for p in self.paraphrase_prompts] + [(n.prompt, "neighbourhood") for n in self.neighborhood]


def _template(text: str, subject: str) -> tuple[str | None, str]:
    """(``text`` as a canonical subject template, or None; why it is not one).

    A subject with braces written out in ``text`` makes it a sentence (its braces are the
    subject's, not a slot); otherwise a well-formed template is read as one."""
    if ("{" in subject or "}" in subject) and subject in text:
        return None, "the subject is written out"
    try:
        return join_template(*split_template(text)), ""
    except ValueError as err:
        return None, str(err)


def _as_template(prompt: str, subject: str, where: str) -> str:
    template, why = _template(prompt, subject)
    if template is not None:
        return template
    if subject in prompt:
        i = prompt.index(subject)
        return join_template(prompt[:i], prompt[i + len(subject):])
    reason = f" ({why})" if "{" in prompt or "}" in prompt else ""
    raise RequestError(f"{where}: prompt {prompt!r} contains neither '{{}}' (once) nor its subject {subject!r}{reason}")


def _sentence(text: str, subject: str, where: str) -> str:
    """A paraphrase as the sentence the model reads: a template is filled, a sentence kept."""
    template, why = _template(text, subject)
    if template is not None:
        return fill(template, subject)
    if "{}" in text and subject not in text:
        raise RequestError(f"{where}: paraphrase {text!r} has a '{{}}' but is not a subject template ({why})")
    return text


def _neighbour(item, where: str) -> Neighbour:
    if isinstance(item, str):
        return Neighbour(prompt=item)
    if isinstance(item, Mapping) and isinstance(item.get("prompt"), str) and isinstance(item.get("target") or "", str):
        return Neighbour(prompt=item["prompt"], target=item.get("target") or "")
    raise RequestError(f"{where}: a neighbourhood prompt must be a string or {{prompt, target}} of strings, got {item!r}")


def _check_types(raw: Mapping, where: str) -> None:
    """Name a field of the wrong type (a string where a list is meant would be read letter by letter)."""
    for key in ("subject", "prompt", "target_new"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise RequestError(f"{where}: field {key!r} must be a non-empty string")
    paraphrases = raw.get("paraphrase_prompts") or []
    if not isinstance(paraphrases, list) or not all(isinstance(p, str) for p in paraphrases):
        raise RequestError(f"{where}: field 'paraphrase_prompts' must be a list of strings, got {paraphrases!r}")
    if not isinstance(raw.get("neighborhood_prompts") or [], list):
        raise RequestError(f"{where}: field 'neighborhood_prompts' must be a list, got {raw['neighborhood_prompts']!r}")
    for key in ("target_true", "relation_id"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise RequestError(f"{where}: field {key!r} must be a string or null, got {raw[key]!r}")
    if not isinstance(raw.get("meta") or {}, Mapping):
        raise RequestError(f"{where}: field 'meta' must be a mapping, got {raw['meta']!r}")


def make_request(raw: Mapping, index: int = 0, where: str | None = None) -> EditRequest:
    """Validate one raw mapping (the fields of :class:`EditRequest`) into a request;
    errors begin with ``where`` (default ``request <index>``)."""
    where = where or f"request {index}"
    if not isinstance(raw, Mapping):
        raise RequestError(f"{where}: expected a mapping of request fields, got {type(raw).__name__}")
    _check_types(raw, where)
    subject = raw["subject"]
    return EditRequest(
        subject=subject,
        prompt=_as_template(raw["prompt"], subject, where),
        target_new=raw["target_new"],
        target_true=raw.get("target_true") or None,
        relation_id=raw.get("relation_id") or None,
        paraphrase_prompts=tuple(_sentence(p, subject, where) for p in raw.get("paraphrase_prompts") or ()),
        neighborhood=tuple(_neighbour(n, where) for n in raw.get("neighborhood_prompts") or ()),
        meta=tuple(sorted((str(k), str(v)) for k, v in (raw.get("meta") or {}).items())),
    )


def make_requests(raws: Iterable[Mapping], where: Callable[[int], str] | None = None) -> list[EditRequest]:
    """Requests of ``raws``; every bad one is reported (one :class:`RequestError`), each named
    by ``where(index)`` (default ``request <index>``)."""
    out, problems = [], []
    for i, raw in enumerate(raws):
        try:
            out.append(make_request(raw, i, where(i) if where else None))
        except RequestError as err:
            problems += err.problems
    if problems:
        raise RequestError(problems)
    return out


def group_indices(requests: list[EditRequest], by: str | None) -> list[list[int]]:
    """Partition request indices: ``by=None`` gives groups of one (MEMIT), ``"subject"`` one group per subject
    (MEMIT-Merge), in order of first appearance."""
    if by is None or by == "none":
        return [[i] for i in range(len(requests))]
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(requests):
        groups.setdefault(getattr(r, by), []).append(i)
    return list(groups.values())

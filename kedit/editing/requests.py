"""Edit requests: what to change, where the subject sits, and how to check it.

A request's ``prompt`` holds ``{}`` where its subject goes ("{}'s father is"); a prompt
that spells the subject out instead is turned into that form. Paraphrase prompts may
use either form too. Neighbourhood prompts are about other subjects and carry the
answer the unedited model is checked against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class RequestError(ValueError):
    """A malformed edit request; the message names its index."""


@dataclass(frozen=True)
class Neighbour:
    """An unrelated prompt and a continuation whose tokens are compared before/after the edit."""

    prompt: str
    target: str = ""


@dataclass(frozen=True)
class EditRequest:
    subject: str
    prompt: str  # contains "{}" exactly once, where the subject goes
    target_new: str
    target_true: str | None = None
    relation_id: str | None = None
    paraphrase_prompts: tuple[str, ...] = ()  # full sentences (subject already filled in)
    neighborhood: tuple[Neighbour, ...] = ()
    meta: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # ids etc. carried to reports

    @property
    def text(self) -> str:
        """The edit prompt with its subject filled in."""
        return self.prompt.format(self.subject)


def _as_template(prompt: str, subject: str, where: str) -> str:
    if prompt.count("{}") == 1:
        return prompt
    if "{}" not in prompt and subject and subject in prompt:
        i = prompt.index(subject)
        escaped = prompt[:i].replace("{", "{{").replace("}", "}}"), prompt[i + len(subject):].replace("{", "{{").replace("}", "}}")
        return escaped[0] + "{}" + escaped[1]
    raise RequestError(f"{where}: prompt {prompt!r} contains neither '{{}}' (once) nor its subject {subject!r}")


def _neighbour(item, where: str) -> Neighbour:
    if isinstance(item, str):
        return Neighbour(prompt=item)
    if isinstance(item, Mapping) and "prompt" in item:
        return Neighbour(prompt=item["prompt"], target=item.get("target") or "")
    raise RequestError(f"{where}: a neighbourhood prompt must be a string or {{prompt, target}}, got {item!r}")


def make_request(raw: Mapping, index: int = 0) -> EditRequest:
    """Validate one raw mapping (the fields of :class:`EditRequest`) into a request."""
    where = f"request {index}"
    for key in ("subject", "prompt", "target_new"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise RequestError(f"{where}: field {key!r} must be a non-empty string")
    subject = raw["subject"]
    prompt = _as_template(raw["prompt"], subject, where)
    paraphrases = tuple(
        p.format(subject) if "{}" in p else p for p in raw.get("paraphrase_prompts") or ()
    )
    neighbours = tuple(_neighbour(n, where) for n in raw.get("neighborhood_prompts") or ())
    meta = tuple(sorted((str(k), str(v)) for k, v in (raw.get("meta") or {}).items()))
    return EditRequest(
        subject=subject,
        prompt=prompt,
        target_new=raw["target_new"],
        target_true=raw.get("target_true") or None,
        relation_id=raw.get("relation_id") or None,
        paraphrase_prompts=paraphrases,
        neighborhood=neighbours,
        meta=meta,
    )


def make_requests(raws: Iterable[Mapping]) -> list[EditRequest]:
    return [make_request(r, i) for i, r in enumerate(raws)]


def group_indices(requests: list[EditRequest], by: str | None) -> list[list[int]]:
    """Partition request indices: ``by=None`` gives groups of one (MEMIT), ``"subject"`` one group per subject
    (MEMIT-Merge), in order of first appearance."""
    if by is None or by == "none":
        return [[i] for i in range(len(requests))]
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(requests):
        groups.setdefault(getattr(r, by), []).append(i)
    return list(groups.values())

"""The dataset card (``README.md``): YAML front matter that ``datasets`` and the Hub read
(license, features, configs; a ``huggingface_hub.DatasetCardData`` whose ``configs`` and
``dataset_info`` blocks ``datasets`` writes as its ``push_to_hub`` does), then how the set
was built, its fields, an example and the citations. Wording lives in ``card_text.yaml``
and ``card_template.md``; this module only fills them in. The card depends only on the
spec, the rows and the counts, never on which endpoint served the facts, so rebuilding
through another server gives the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template

import yaml
from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData

from kedit.data import schema
from kedit.data.embedded import NAMES as EMBEDDED

HERE = Path(__file__).parent
TEXT = HERE / "card_text.yaml"
TEMPLATE = HERE / "card_template.md"
#: The parquet file that holds split ``train``, in the directory and in the Hub repository.
DATA_FILE = "data.parquet"


#: Order of the front matter's keys: ``DatasetCardData`` would put its own fields first; this
#: order keeps the cards already published (datasets/*/README.md) byte for byte.
METADATA_ORDER = ["license", "pretty_name", "language", "task_categories", "tags", "size_categories", "configs", "dataset_info"]


def card_data(spec: dict, text: dict, n_rows: int) -> DatasetCardData:
    """The card's metadata: license and tags, then the ``configs`` (split ``train`` is
    :data:`DATA_FILE`) and ``dataset_info`` (features) blocks, each written by ``datasets`` itself."""
    data = DatasetCardData(
        license="cc0-1.0",
        pretty_name=_title(spec, text),
        language=[spec["language"]],
        task_categories=["text-generation"],
        tags=["knowledge-editing", "wikidata", "memit", "memit-merge"],
        size_categories=["n<1K" if n_rows < 1000 else "1K<n<10K" if n_rows < 10000 else "10K<n<100K"],
    )
    MetadataConfigs({"default": {"data_files": [{"split": "train", "path": DATA_FILE}]}}).to_dataset_card_data(data)
    DatasetInfosDict({"default": DatasetInfo(features=schema.features())}).to_dataset_card_data(data)
    return data


def _title(spec: dict, text: dict) -> str:
    return text["title"].format(policy=spec["subjects"]["policy"], target=spec["target"])


def _relations_text(spec: dict, text: dict) -> str:
    rel = spec["relations"]
    mode = "query" if spec["query"] is not None else "ids" if rel["ids"] is not None else "discovery"
    kinds = [text["value_types"][t] for t in rel["value_types"]]
    return text["relations"][mode].format(
        values=" or ".join(filter(None, [", ".join(kinds[:-1]), kinds[-1]])),
        sample=rel["sample"] if rel["sample"] is not None else "all", subject_class=spec["subject_class"],
        min_subjects=rel["min_subjects"], exclude=", ".join(rel["exclude"]) or "nothing", ids=", ".join(rel["ids"] or []),
    )


def _count_lines(spec: dict, counts: dict, text: dict) -> list[str]:
    """The paragraphs of counts: rows, the split, fewer relations than asked, subjects named only by a label."""
    lines = [text["counts"].format(rows=counts["rows"], relations=counts["relations"], subjects=counts["distinct_subjects"])]
    if spec["split"] != "all":
        lines.append(text["split"].format(split=spec["split"]))
    if counts["relations"] < counts["relations_requested"]:
        lines.append(text["fewer"].format(
            requested=counts["relations_requested"], available=counts["relations_available"],
            relations=counts["relations"], per_relation=spec["per_relation"]))
    local = counts["local_subjects"]
    if local["local_subject"]:
        lines.append(text["local_subjects"].format(
            local=local["local_subject"], subject_class=spec["subject_class"], linked=local["linked"], unlinked=local["local_subject"] - local["linked"],
            no_item=local["no_item_with_label"], several=local["several_items_with_label"], unshared=local["no_shared_statement"]))
    return lines


def render_card(spec: dict, counts: dict, rows: list[dict]) -> str:
    """The card for ``rows`` built from ``spec`` (resolved ``dataset.wikidata``); ``counts`` as in
    the provenance."""
    text = yaml.safe_load(TEXT.read_text(encoding="utf-8"))
    subjects, tpl, near = spec["subjects"], spec["templates"], spec["neighbors"]
    names = text["names"]["builtin" if subjects["names"] == "builtin" else "custom"]
    kind = "embedded" if spec["endpoint"] in EMBEDDED else "endpoint"
    summary = " ".join([
        f"Knowledge-editing requests built from Wikidata facts: {counts['rows']} rows.",
        text["subjects"][subjects["policy"]].format(
            name=subjects["name"], names=names, groups=subjects["groups"], facts=subjects["facts"], singles=subjects["singles"]),
        text["targets"][spec["target"]],
    ])
    steps = text["steps"].format(
        relations=_relations_text(spec, text), per_relation=spec["per_relation"], seed=spec["seed"],
        policy=subjects["policy"], target=spec["target"], edit=tpl["edit"],
        paraphrase=", ".join(f"`{p}`" for p in tpl["paraphrase"]), neighborhood=tpl["neighborhood"] or tpl["edit"],
        same_relation=near["same_relation"], other_relation=near["other_relation"],
    )
    fields = "\n".join(
        f"| `{name}` | {schema.dtype_text(f['dtype'])} | {f['description']} |" for name, f in schema.fields().items()
    )
    body = Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        title=_title(spec, text),
        summary=summary,
        source=text["sources"][kind].format(endpoint=spec["endpoint"]),
        steps=steps,
        counts="\n\n".join(_count_lines(spec, counts, text)),
        fields=fields,
        example=json.dumps(rows[0], ensure_ascii=False, indent=2) if rows else "{}",
        sources=text["source_notes"][kind],
    )
    metadata = card_data(spec, text, counts["rows"]).to_yaml(original_order=METADATA_ORDER)
    return str(DatasetCard(f"---\n{metadata}\n---\n\n{body}"))

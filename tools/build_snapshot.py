#!/usr/bin/env python3
"""Build kedit's offline Wikidata-shaped snapshot (and the fake-name list).

Reads public data files straight out of bare git mirrors of the source
repositories (pinned commits, see SOURCES) and writes:

  kedit/data/wikidata/snapshot.ttl           Turtle, one triple per line, sorted
  kedit/data/wikidata/relation_phrases.yaml  P-id -> label / phrase / template
  kedit/data/wikidata/stats.json             counts (for the README)
  kedit/data/names/names.txt                 synthetic "Given Surname" list

Usage:
  python3 tools/build_snapshot.py --mirror-root /work/.mirror --repo-root .

Each mirror is a bare git dir (<owner>+<name>/repo or .../repo/.git); blobs
are read with `git show <commit>:<path>`, so nothing needs unpacking.
Only facts (ids, labels) are taken from the sources; no code is reused.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

WD = "http://www.wikidata.org/entity/"
KL = "http://kedit.local/entity/"

# name -> (mirror dir name, commit)
SOURCES = {
    "wikipeople": ("migalkin+StarE", "f40a5ee082d61851477e9870c21e991c7d91deb3"),
    "codex": ("tsafavi+codex", "3132e426c2a6b643b70bad679905a3a6270be440"),
    "fb15k": ("villmow+datasets_knowledge_embedding", "9e392453d6804d1f51c13e5650ae58ed48b638d5"),
    "kamel": ("JanKalo+KAMEL", "21625baba6439faea03e61c28ce29475dc4996f6"),
    "lmkbc2023": ("lm-kbc+dataset2023", "a4d22f08b70b22c05ba02a0600196c1496dccbfe"),
    "lmkbc2024": ("lm-kbc+dataset2024", "bc7e017791d7c78fadf6b5159a27f10e9add12f8"),
    "bear": ("lm-pub-quiz+lm-pub-quiz", "8bbb949c3a7e0e61a426707e45d3d1f2f411eaf1"),
    "fewrel": ("thunlp+FewRel", "278a2315d2138810a379cd8d5718914dc56e2582"),
    "propdump": ("maxlath+wikidata-properties-dumper", "024164253028e72cc35ac0acb77433ff2df77a48"),
    "propdump2020": ("digi-ark+wikidata-properties-dumper", "d453cee1f45087922e6b04b65d82b2e246c134d3"),
    "mquake": ("princeton-nlp+MQuAKE", "fb43dadc2d8cd19d08ce81c63d957b59deb3f3cd"),
    "ssa": ("aramshiva+babies", "5cbb539a286b8c1e40cb1400bf7c43b5e5b31b25"),
    "census": ("DinaAbrahim+MarriageInTexas", "eaaa2405d3e82e899311107262aff6f7034939f8"),
    "wikontic": ("screemix+Wikontic", "8e36d5e58233a1c7c5900f5e02c2d8f254fbbb68"),
}

# LM-KBC relation name -> Wikidata property (our reading of the LM-KBC relation
# definitions; only relations whose subject is a person by definition).
LMKBC_PERSON_RELATIONS = {
    "PersonHasProfession": "P106",
    "PersonHasPlaceOfDeath": "P20",
    "personHasCityOfDeath": "P20",
    "PersonPlaysInstrument": "P1303",
    "PersonSpeaksLanguage": "P1412",
    "PersonCauseOfDeath": "P509",
    "PersonHasEmployer": "P108",
    "PersonHasNoblePrize": "P166",
    "PersonHasSpouse": "P26",
}

# KAMEL relations never taken even if attested on humans: their Wikidata
# subject is by definition not a person (P286 head coach: subject is a team).
KAMEL_NON_PERSON_SUBJECT = {"P286"}

# Literal-valued KAMEL relations: KAMEL's XML Schema type -> (Wikidata property type, object
# pattern, xsd datatype).  KAMEL gives dates as years; Wikidata's truthy (wdt:) value of a
# year-precision date is YYYY-01-01T00:00:00Z, written the same way here.
LITERAL_TYPES = {
    "XMLSchema#dateTime": ("Time", r"-?[0-9]{1,4}", "dateTime"),
    "XMLSchema#decimal": ("Quantity", r"-?[0-9]+(\.[0-9]+)?", "decimal"),
}
# A literal-valued KAMEL relation is taken only if Wikidata's subject-type constraint names
# human (Q5) or person (Q215627): no Q-id source attests literal facts on humans.
PERSON_TYPES = {"Q5", "Q215627"}

# Phrases for "{subject}'s {phrase} is {object}" where the Wikidata label reads
# badly in that frame.  Our own wording.
PHRASE_OVERRIDES = {
    "P19": "birthplace", "P20": "place of death", "P21": "gender",
    "P69": "alma mater", "P119": "burial place", "P166": "award",
    "P39": "position", "P102": "political party", "P54": "sports team",
    "P463": "organization", "P1412": "language", "P1303": "instrument",
    "P101": "field of work", "P1344": "event", "P737": "influence",
    "P1411": "award nomination", "P413": "playing position",
    "P641": "sport", "P1050": "medical condition", "P512": "academic degree",
    "P802": "student", "P1066": "teacher", "P184": "doctoral advisor",
    "P185": "doctoral student", "P3373": "sibling", "P1038": "relative",
    "P551": "residence", "P937": "work location", "P106": "occupation",
    "P27": "country of citizenship", "P1196": "manner of death",
    "P509": "cause of death", "P103": "native language", "P140": "religion",
    "P172": "ethnic group", "P91": "sexual orientation", "P135": "movement",
    "P1340": "eye color", "P552": "handedness", "P741": "playing hand",
    "P1532": "sporting country", "P2416": "sports discipline",
    "P800": "notable work", "P1830": "property", "P127": "owner",
    "P1327": "business partner", "P451": "partner", "P3448": "stepparent",
    "P1884": "hair color", "P53": "family", "P97": "noble title",
    "P410": "military rank", "P241": "military branch", "P607": "war",
    "P1416": "affiliation", "P118": "league", "P264": "record label",
    "P136": "genre", "P412": "voice type", "P108": "employer",
    "P2031": "start of work period", "P2032": "end of work period", "P1321": "Swiss place of origin", "P1429": "pet", "P1399": "conviction",
    "P2632": "place of detention", "P793": "significant event",
    "P3602": "candidacy", "P812": "academic major", "P1026": "thesis",
    "P1449": "nickname", "P734": "family name", "P735": "given name",
    "P263": "official residence", "P495": "country of origin", "P859": "sponsor",
    "P1290": "godparent", "P1299": "portrayal", "P1889": "often-confused namesake",
    "P2522": "victory", "P2650": "interest", "P5389": "permanent residency",
    "P6087": "coached team", "P6379": "collection holding their works",
    "P6886": "writing language", "P6275": "copyright representative",
}


class Src:
    def __init__(self, mirror_root: Path):
        self.root = mirror_root

    def gitdir(self, name: str) -> Path:
        d = self.root / SOURCES[name][0] / "repo"
        return d / ".git" if (d / ".git").is_dir() else d

    def ls(self, name: str, path: str) -> list[str]:
        out = subprocess.check_output(
            ["git", "--git-dir", str(self.gitdir(name)), "ls-tree", "-r", "--name-only",
             SOURCES[name][1], path])
        return out.decode().split("\n")[:-1]

    def read(self, name: str, path: str) -> str:
        return subprocess.check_output(
            ["git", "--git-dir", str(self.gitdir(name)), "show",
             f"{SOURCES[name][1]}:{path}"]).decode("utf-8")


def jsonl(text: str):
    for line in text.splitlines():
        line = line.strip()
        if line:
            yield json.loads(line)


def esc(s: str) -> str:
    return (s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t"))


def kl_name(label: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")[:40] or "x"
    return f"{slug}_{hashlib.sha1(label.encode('utf-8')).hexdigest()[:8]}"


def is_q(x) -> bool:
    return isinstance(x, str) and re.fullmatch(r"Q[1-9][0-9]*", x) is not None


def literal(value: str, kamel_type: str) -> str | None:
    """A KAMEL literal object as a typed Turtle literal shaped like Wikidata's wdt: value, or None."""
    _, pattern, datatype = LITERAL_TYPES[kamel_type]
    if not re.fullmatch(pattern, value):
        return None
    if datatype == "dateTime":
        year = int(value)
        value = f"{'-' if year < 0 else ''}{abs(year):04d}-01-01T00:00:00Z"
    return f'"{value}"^^xsd:{datatype}'


def kamel_literal_type(recs: list[dict]) -> str | None:
    """The KAMEL XML Schema type of a relation whose objects are all literals of one known type."""
    kinds = {u for d in recs for u in (d.get("obj_uri") or [])}
    return next(iter(kinds)) if len(kinds) == 1 and kinds <= set(LITERAL_TYPES) else None


def kamel_object_labels(d: dict) -> list[str]:
    """The object strings of a KAMEL record: train/dev give strings, test gives dicts."""
    return [o.get("chosen") if isinstance(o, dict) else o for o in d.get("obj_label") or []
            if isinstance(o, (str, dict))]


def build(src: Src, max_subjects_per_prop: int):
    # ---------------- labels for Q-ids (first source wins) -----------------
    labels: dict[str, str] = {}
    label_src: dict[str, str] = {}

    def add_label(q, lab, where):
        if is_q(q) and isinstance(lab, str) and lab.strip() and q not in labels:
            labels[q] = lab.strip()
            label_src[q] = where

    kamel_rels = sorted({p.split("/")[2] for p in src.ls("kamel", "data/KAMEL")
                         if re.fullmatch(r"data/KAMEL/P\d+/(train|dev|test)\.jsonl", p)})
    kamel = {}
    for rel in kamel_rels:
        recs = []
        for split in ("train", "dev", "test"):
            recs += list(jsonl(src.read("kamel", f"data/KAMEL/{rel}/{split}.jsonl")))
        kamel[rel] = recs
        for d in recs:
            for u, o in zip(d.get("obj_uri") or [], d.get("obj_label") or []):
                if isinstance(o, dict):
                    add_label(u, o.get("rdf"), "kamel")

    lmkbc_facts = []
    lm_humans = set()
    for name, files in (("lmkbc2023", ["data/train.jsonl", "data/val.jsonl"]),
                        ("lmkbc2024", ["data/train.jsonl", "data/val.jsonl"])):
        for f in files:
            for d in jsonl(src.read(name, f)):
                add_label(d.get("SubjectEntityID"), d.get("SubjectEntity"), name)
                # Multi-object ID and label lists are not always in the same
                # order (e.g. 2024 awardWonBy), so object labels are taken
                # only from single-object records.
                oids = d.get("ObjectEntitiesID") or []
                olabs = d.get("ObjectEntities") or []
                if len(oids) == 1 and len(olabs) == 1:
                    add_label(oids[0], olabs[0], name)
                p = LMKBC_PERSON_RELATIONS.get(d["Relation"])
                if p and is_q(d.get("SubjectEntityID")):
                    lm_humans.add(d["SubjectEntityID"])
                    for i in d.get("ObjectEntitiesID") or []:
                        if is_q(i):
                            lmkbc_facts.append((d["SubjectEntityID"], p, i))

    for v in json.loads(src.read("fb15k", "FB15K/entity2wikidata.json")).values():
        add_label(v.get("wikidata_id"), v.get("label"), "fb15k")
    for q, v in json.loads(src.read("codex", "data/types/en/types.json")).items():
        add_label(q, v.get("label"), "codex")
    for f in src.ls("bear", "examples/gpt2_results"):
        if not f.endswith("_results.jsonl"):
            continue
        for d in jsonl(src.read("bear", f)):
            add_label(d.get("sub_id"), d.get("sub_label"), "bear")

    # ---------------- humans (sourced P31=Q5 evidence) ---------------------
    humans: dict[str, str] = {}
    wp_facts = []
    for f in ("data/raw_data/wikipeople/n-ary_test.json", "data/raw_data/wikipeople/n-ary_valid.json"):
        for d in jsonl(src.read("wikipeople", f)):
            for k, v in d.items():
                if k.endswith("_h"):
                    p = k[:-2]
                    humans.setdefault(v, "wikipeople")
                    wp_facts.append((v, p, d.get(p + "_t")))
    e2t = json.loads(src.read("codex", "data/types/entity2types.json"))
    for e, ts in e2t.items():
        if "Q5" in ts:
            humans.setdefault(e, "codex")
    for h in lm_humans:
        humans.setdefault(h, "lmkbc")

    # WD50K (StarE data/clean, Wikidata RDF dump of 2019-08-01): main triples
    # (s, p, o) of each statement; qualifiers are ignored.  Its own P31=Q5
    # statements are human evidence.
    wd50k_rows = set()
    for f in src.ls("wikipeople", "data/clean"):
        if re.fullmatch(r"data/clean/wd50k(_33|_66|_100)?/statements/(train|valid|test)\.txt", f):
            for line in src.read("wikipeople", f).splitlines():
                parts = line.strip().split(",")
                if len(parts) >= 3 and is_q(parts[0]) and re.fullmatch(r"P\d+", parts[1]):
                    wd50k_rows.add((parts[0], parts[1], parts[2]))
    for s, p, o in sorted(wd50k_rows):
        if p == "P31" and o == "Q5":
            humans.setdefault(s, "wd50k")
    wd50k_facts = sorted(t for t in wd50k_rows if t[0] in humans)

    codex_facts = []
    # codex-l/train.txt is over the mirror's 4 MiB blob limit and is not used.
    for f in src.ls("codex", "data/triples"):
        if re.search(r"codex-[sm]/(train|valid|test)\.txt$|codex-l/(valid|test)\.txt$", f):
            for line in src.read("codex", f).splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[0] in e2t and "Q5" in e2t[parts[0]]:
                    codex_facts.append(tuple(parts))

    # ---------------- property labels --------------------------------------
    plabels: dict[str, tuple[str, str]] = {}
    for p, v in json.loads(src.read("codex", "data/relations/en/relations.json")).items():
        plabels.setdefault(p, (v["label"], "codex"))
    for p, v in json.loads(src.read("fewrel", "data/pid2name.json")).items():
        if v[0] != "None":  # FewRel writes the string "None" where it has no label (P1962)
            plabels.setdefault(p, (v[0], "fewrel"))
    for name in ("propdump", "propdump2020"):
        for p, v in json.loads(src.read(name, "properties/en.json")).items():
            if isinstance(v, str) and v.strip():  # some entries are null
                plabels.setdefault(p, (v, name))

    # ---------------- Q-id facts -------------------------------------------
    facts: dict[tuple, set] = collections.defaultdict(set)  # (s,p,o) -> sources
    for tag, rows in (("wikipeople", wp_facts), ("codex", codex_facts), ("lmkbc", lmkbc_facts),
                      ("wd50k", wd50k_facts)):
        for s, p, o in rows:
            if (p != "P31" and p in plabels and is_q(s) and is_q(o) and s in humans
                    and s in labels and o in labels):
                facts[(WD + s, p, WD + o)].add(tag)

    # ---------------- KAMEL facts (label-only subjects -> kl:) ------------
    human_props = {p for rows in (wp_facts, codex_facts, lmkbc_facts, wd50k_facts)
                   for s, p, o in rows if s in humans}
    human_names = collections.defaultdict(set)
    for q in humans:
        if q in labels:
            human_names[labels[q]].add(q)
    kl_labels: dict[str, str] = {}
    kl_humans = set()
    kamel_linked_obj = kamel_kl_obj = 0
    constraints = json.loads(src.read(
        "wikontic", "src/wikontic/utils/ontology_mappings_en_en/prop2constraints.json"))
    ptypes: dict[str, str] = {}  # property -> Wikidata property type, when not WikibaseItem

    def name_matched(recs):
        """(subject label, record) of the KAMEL records whose subject is named like a sourced human."""
        for d in recs:
            sl = d.get("sub_label")
            if isinstance(sl, str) and sl in human_names:
                yield sl, d

    def add_kamel_facts(subject_label, rel, objs):
        """Facts of a name-matched KAMEL subject, a local kl: human."""
        s_iri = KL + kl_name(subject_label)
        kl_labels[s_iri] = subject_label
        kl_humans.add(s_iri)
        for o in objs:
            facts[(s_iri, rel, o)].add("kamel")

    for rel in kamel_rels:
        recs = kamel[rel]
        kind = kamel_literal_type(recs)
        subject_types = set(constraints.get(rel, {}).get("Subject type constraint", []))
        if kind is None or rel not in plabels or not subject_types & PERSON_TYPES:
            continue
        ptypes[rel] = LITERAL_TYPES[kind][0]
        for sl, d in name_matched(recs):
            objs = [o for o in (literal(v, kind) for v in kamel_object_labels(d) if v) if o]
            if objs:
                add_kamel_facts(sl, rel, objs)
    for rel in kamel_rels:
        recs = kamel[rel]
        # KAMEL subjects are matched to humans by name only, so keep a KAMEL
        # relation only if the Q-id sources attest it on sourced humans.
        if (rel == "P31" or rel not in plabels or rel not in human_props
                or rel in KAMEL_NON_PERSON_SUBJECT):
            continue
        pairs = collections.defaultdict(set)
        item_valued = False
        for d in recs:
            for u, o in zip(d.get("obj_uri") or [], d.get("obj_label") or []):
                if is_q(u) and isinstance(o, dict):
                    item_valued = True
                    pairs[o.get("rdf")].add(u)
                    for alt in [o.get("chosen")]:
                        if alt:
                            pairs[alt].add(u)
        if not item_valued:
            continue  # literal-valued relation
        for sl, d in name_matched(recs):
            objs = []
            if d.get("obj_uri"):
                for u in d["obj_uri"]:
                    if is_q(u) and u in labels:
                        objs.append(WD + u)
            else:
                for o in d.get("obj_label") or []:
                    if not isinstance(o, str) or not o.strip():
                        continue
                    cands = pairs.get(o, set())
                    if len(cands) == 1 and next(iter(cands)) in labels:
                        objs.append(WD + next(iter(cands)))
                        kamel_linked_obj += 1
                    else:
                        kl_labels[KL + kl_name(o)] = o
                        objs.append(KL + kl_name(o))
                        kamel_kl_obj += 1
            if objs:
                add_kamel_facts(sl, rel, objs)

    # ---------------- cap per property (file size) ------------------------
    by_prop = collections.defaultdict(lambda: collections.defaultdict(list))
    for (s, p, o) in facts:
        by_prop[p][s].append(o)
    kept = []
    for p in sorted(by_prop):
        subs = sorted(by_prop[p], key=lambda s: hashlib.sha1((p + s).encode()).hexdigest())
        for s in subs[:max_subjects_per_prop]:
            for o in sorted(by_prop[p][s]):
                kept.append((s, p, o))

    # ---------------- emit Turtle -------------------------------------------
    def term(iri):
        if iri.startswith('"'):  # a typed literal, written as it is
            return iri
        if iri.startswith(WD):
            return "wd:" + iri[len(WD):]
        return "kl:" + iri[len(KL):]

    def label_of(iri):
        if iri.startswith(WD):
            return labels[iri[len(WD):]]
        return kl_labels[iri]

    lines = set()
    subjects, entities, props = set(), set(), set()
    for s, p, o in kept:
        lines.add(f"{term(s)} wdt:{p} {term(o)} .")
        subjects.add(s)
        entities.update((s, o) if not o.startswith('"') else (s,))
        props.add(p)
    for s in subjects:
        lines.add(f"{term(s)} wdt:P31 wd:Q5 .")
        if s.startswith(KL):
            lines.add(f'{term(s)} schema:description "person named in the KAMEL dataset; '
                      f'not linked to a Wikidata item (kedit local entity)"@en .')
    entities.add(WD + "Q5")
    labels.setdefault("Q5", "human")
    for e in entities:
        lines.add(f'{term(e)} rdfs:label "{esc(label_of(e))}"@en .')
    props.add("P31")
    plabels.setdefault("P31", ("instance of", "builtin"))
    for p in props:
        lines.add(f'wd:{p} rdfs:label "{esc(plabels[p][0])}"@en .')
        lines.add(f"wd:{p} wikibase:directClaim wdt:{p} .")
        lines.add(f"wd:{p} wikibase:propertyType wikibase:{ptypes.get(p, 'WikibaseItem')} .")

    header = "\n".join([
        "# kedit offline Wikidata-shaped snapshot. Generated by tools/build_snapshot.py;",
        "# see kedit/data/wikidata/README.md for sources and licenses. Do not edit by hand.",
        "@prefix wd: <http://www.wikidata.org/entity/> .",
        "@prefix wdt: <http://www.wikidata.org/prop/direct/> .",
        "@prefix wikibase: <http://wikiba.se/ontology#> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        "@prefix schema: <http://schema.org/> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        "@prefix kl: <http://kedit.local/entity/> .",
        "",
    ])
    ttl = header + "\n".join(sorted(lines)) + "\n"

    fact_src = collections.Counter()
    for t in kept:
        for tag in facts[t]:
            fact_src[tag] += 1
    subj_per_prop = collections.Counter(p for p in {(s, p) for s, p, _ in kept} for p in [p[1]])
    stats = {
        "humans": len(subjects),
        "humans_wikidata_ids": sum(1 for s in subjects if s.startswith(WD)),
        "humans_local_kl": sum(1 for s in subjects if s.startswith(KL)),
        "properties_used_on_humans": len(props - {"P31"}),
        "properties_with_ge3_subjects": sum(1 for p, n in subj_per_prop.items() if n >= 3),
        "properties_with_ge2_subjects": sum(1 for p, n in subj_per_prop.items() if n >= 2),
        "literal_valued_properties": {p: ptypes[p] for p in sorted(ptypes, key=lambda x: int(x[1:])) if p in props},
        "facts": len(kept),
        "facts_by_source": dict(sorted(fact_src.items())),
        "entities_with_labels": len(entities),
        "kl_entities": sum(1 for e in entities if e.startswith(KL)),
        "kamel_objects_linked_by_label_within_relation": kamel_linked_obj,
        "kamel_objects_local_kl": kamel_kl_obj,
        "label_sources_for_emitted_wd_entities": dict(sorted(collections.Counter(
            label_src.get(e[len(WD):], "builtin") for e in entities if e.startswith(WD)).items())),
        "property_label_sources": dict(sorted(collections.Counter(
            plabels[p][1] for p in props).items())),
        "max_subjects_per_property": max_subjects_per_prop,
    }
    return ttl, stats, {p: plabels[p][0] for p in props}, subj_per_prop


def relation_phrases(src: Src, plabels: dict[str, str]) -> str:
    cloze = json.loads(src.read("mquake", "prompts/templates/cloze_templates.json"))
    out = ["# P-id -> Wikidata English label, phrase for \"{subject}'s {phrase} is {object}\".",
           "# label: from the property-label sources named in README.md.",
           "# phrase: label unless it reads badly in that frame (our wording).",
           "# mquake_cloze: template from princeton-nlp/MQuAKE prompts/templates/cloze_templates.json",
           "#   (MIT, commit fb43dadc), [X] = subject, __ = object; only where MQuAKE has the P-id.",
           "# Generated by tools/build_snapshot.py.", ""]

    def q(s):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    for p in sorted(plabels, key=lambda x: int(x[1:])):
        lab = plabels[p]
        out.append(f"{p}:")
        out.append(f"  label: {q(lab)}")
        out.append(f"  phrase: {q(PHRASE_OVERRIDES.get(p, lab))}")
        if p in cloze:
            out.append(f"  mquake_cloze: {q(cloze[p])}")
    return "\n".join(out) + "\n"


def build_names(src: Src) -> list[str]:
    fem, male = [], []
    for line in src.read("ssa", "names/yob2000.txt").splitlines():
        n, sex, _ = line.split(",")
        (fem if sex == "F" else male).append(n)
    given = fem[:50] + male[:50]
    sur = []
    for row in src.read("census", "Names_2010Census.csv").splitlines()[1:]:
        n = row.split(",")[0]
        if n.isalpha():
            sur.append(n.capitalize())
        if len(sur) == 40:
            break
    names = {f"{g} {s}" for g in given for s in sur} - {"John Smith"}
    return sorted(names)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirror-root", default="/work/.mirror", type=Path)
    ap.add_argument("--repo-root", default=Path(__file__).resolve().parents[1], type=Path)
    ap.add_argument("--max-subjects-per-property", type=int, default=1000)
    a = ap.parse_args(argv)
    src = Src(a.mirror_root)
    ttl, stats, plabels, spp = build(src, a.max_subjects_per_property)
    wd_dir = a.repo_root / "kedit" / "data" / "wikidata"
    wd_dir.mkdir(parents=True, exist_ok=True)
    (wd_dir / "snapshot.ttl").write_text(ttl, encoding="utf-8")
    stats["subjects_per_property"] = dict(sorted(spp.items(), key=lambda kv: int(kv[0][1:])))
    (wd_dir / "stats.json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    (wd_dir / "relation_phrases.yaml").write_text(relation_phrases(src, plabels), encoding="utf-8")
    names_dir = a.repo_root / "kedit" / "data" / "names"
    names_dir.mkdir(parents=True, exist_ok=True)
    names = build_names(src)
    (names_dir / "names.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in stats.items() if k != "subjects_per_property"}, indent=1))
    print("names:", len(names), file=sys.stderr)


if __name__ == "__main__":
    main()

"""Text corpora for second-moment statistics.

The default, ``wikipedia-sample``, is real English Wikipedia text that is available offline:
the shortened English Wikipedia dump (206 pages) that the PyPI wheel of gensim ships as
test data, plus the 299 news articles of its Lee corpus. kedit reads the files only; install
the wheel with ``pip install --no-deps gensim`` (nothing compiles). Online users can name a
``datasets`` corpus (``hf:wikitext:wikitext-103-raw-v1:train``) or local text files.
"""

from __future__ import annotations

import bz2
import hashlib
import html
import importlib.metadata
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

CLEANER_VERSION = "1"
MIN_WORDS = 8  # shorter paragraphs are headings, captions and list debris


class CorpusError(ValueError):
    """A corpus that cannot be found or read."""


@dataclass(frozen=True)
class Corpus:
    """A named, fingerprinted stream of English paragraphs."""

    name: str
    fingerprint: str
    read: Callable[[], Iterator[str]]

    def texts(self) -> Iterator[str]:
        return self.read()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- MediaWiki markup to plain paragraphs ------------------------------------------

_NESTED = [(re.compile(r"\{\{[^{}]*\}\}"), ""), (re.compile(r"\{\|[^{}]*?\|\}", re.S), "")]
_FLAT = [
    (re.compile(r"<!--.*?-->", re.S), ""),
    (re.compile(r"<ref[^>]*/>"), ""),
    (re.compile(r"<ref[^>]*>.*?</ref>", re.S), ""),
    (re.compile(r"<[^>]+>"), ""),
    (re.compile(r"\[\[(?:File|Image|Category|[a-z\-]{2,12}):[^\[\]]*(?:\[\[[^\]]*\]\][^\[\]]*)*\]\]", re.I), ""),
    (re.compile(r"\[\[[^\]|]*\|([^\]]*)\]\]"), r"\1"),
    (re.compile(r"\[\[([^\]]*)\]\]"), r"\1"),
    (re.compile(r"\[https?://[^\s\]]+ ([^\]]*)\]"), r"\1"),
    (re.compile(r"\[https?://[^\]]*\]"), ""),
    (re.compile(r"'{2,}"), ""),
    (re.compile(r"[ \t]+"), " "),
]


def wiki_to_paragraphs(markup: str) -> Iterator[str]:
    """Plain-text paragraphs of one article's wikitext (headings, lists and tables dropped)."""
    text = html.unescape(markup)
    for pattern, repl in _NESTED:  # innermost first, until nothing nested is left
        while True:
            text, n = pattern.subn(repl, text)
            if not n:
                break
    for pattern, repl in _FLAT:
        text = pattern.sub(repl, text)
    for block in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in block.splitlines() if ln.strip() and ln.strip()[0] not in "=*#:;|!{}"]
        para = " ".join(lines).replace("\xa0", " ").strip()
        if len(para.split()) >= MIN_WORDS and not any(junk in para for junk in ("{{", "}}", "[[", "|", "File:")):
            yield para


def _wiki_dump_paragraphs(path: Path) -> Iterator[str]:
    with bz2.open(path) as f:
        for _, elem in ET.iterparse(f):
            if elem.tag.endswith("}page"):
                title = elem.findtext("{*}title") or ""
                text = elem.findtext("{*}revision/{*}text") or ""
                if ":" not in title and not text.lstrip().upper().startswith("#REDIRECT"):
                    yield from wiki_to_paragraphs(text)
                elem.clear()


def _gensim_data(name: str) -> Path:
    try:
        path = Path(importlib.metadata.distribution("gensim").locate_file(f"gensim/test/test_data/{name}"))
    except importlib.metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise CorpusError(
            "the offline corpus 'wikipedia-sample' reads English Wikipedia text shipped in the gensim wheel; "
            "install it with: pip install --no-deps gensim==4.4.0 (or name another corpus in the spec)"
        )
    return path


def wikipedia_sample() -> Corpus:
    wiki = _gensim_data("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
    news = _gensim_data("lee_background.cor")

    def read() -> Iterator[str]:
        yield from _wiki_dump_paragraphs(wiki)
        for line in news.read_text(encoding="utf-8", errors="replace").splitlines():
            if len(line.split()) >= MIN_WORDS:
                yield line.strip()

    fp = hashlib.sha256(f"{_sha256(wiki)}:{_sha256(news)}:cleaner{CLEANER_VERSION}".encode()).hexdigest()
    return Corpus(name="wikipedia-sample", fingerprint=fp, read=read)


def text_files(paths: list[str]) -> Corpus:
    """Local UTF-8 text files; paragraphs are separated by blank lines."""
    files = [Path(p).expanduser() for p in paths]
    for p in files:
        if not p.is_file():
            raise CorpusError(f"corpus file {p} does not exist")

    def read() -> Iterator[str]:
        for p in files:
            for block in re.split(r"\n\s*\n", p.read_text(encoding="utf-8", errors="replace")):
                para = " ".join(block.split())
                if para:
                    yield para

    fp = hashlib.sha256(":".join(_sha256(p) for p in files).encode()).hexdigest()
    return Corpus(name="files:" + ",".join(p.name for p in files), fingerprint=fp, read=read)


def hf_dataset(spec: str) -> Corpus:
    """``hf:NAME[:CONFIG[:SPLIT[:COLUMN]]]``, read with ``datasets`` (streams when online)."""
    parts = spec.split(":")[1:] + [None] * 4
    name, config, split, column = parts[0], parts[1], parts[2] or "train", parts[3] or "text"

    def read() -> Iterator[str]:
        import datasets

        try:
            ds = datasets.load_dataset(name, config, split=split, streaming=True)
        except Exception as e:  # datasets raises many types for a missing/offline dataset
            raise CorpusError(f"cannot open corpus {spec!r}: {e}") from None
        for row in ds:
            text = (row.get(column) or "").strip()
            if len(text.split()) >= MIN_WORDS:
                yield text

    fp = hashlib.sha256(spec.encode()).hexdigest()
    return Corpus(name=spec, fingerprint=fp, read=read)


def get_corpus(name: str | list[str] = "wikipedia-sample") -> Corpus:
    """``"wikipedia-sample"``, ``"hf:..."`` or a list of local text files."""
    if isinstance(name, list):
        return text_files(name)
    if name == "wikipedia-sample":
        return wikipedia_sample()
    if name.startswith("hf:"):
        return hf_dataset(name)
    if Path(name).expanduser().is_file():
        return text_files([name])
    raise CorpusError(f"unknown corpus {name!r}: use 'wikipedia-sample', 'hf:NAME[:CONFIG[:SPLIT[:COLUMN]]]' or text file paths")

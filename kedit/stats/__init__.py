"""Second-moment statistics in one place: the text corpora they are taken over
(:mod:`kedit.stats.corpus`), the precision the pass runs in (:mod:`kedit.stats.precision`),
accumulating and caching ``E[k kᵀ]`` (:mod:`kedit.stats.moments`) and sharing the cached files
through a folder or the Hugging Face Hub (:mod:`kedit.stats.hub`).

Data flows one way: corpus, precision -> moments -> hub. Nothing here imports :mod:`kedit.methods`.
"""

from kedit.stats.corpus import Corpus, CorpusError, get_corpus, hf_dataset, text_files, wikipedia_sample
from kedit.stats.hub import StatsShareError, cached_files, export, import_files, pull, push
from kedit.stats.moments import SecondMoment, StatsKey, accumulate, second_moments, windows
from kedit.stats.precision import PRECISIONS, Precision, resolve

__all__ = [
    "PRECISIONS",
    "Corpus",
    "CorpusError",
    "Precision",
    "SecondMoment",
    "StatsKey",
    "StatsShareError",
    "accumulate",
    "cached_files",
    "export",
    "get_corpus",
    "hf_dataset",
    "import_files",
    "pull",
    "push",
    "resolve",
    "second_moments",
    "text_files",
    "wikipedia_sample",
    "windows",
]

"""Edit datasets from Wikidata: SPARQL access (live, cached or embedded snapshot), the
builder that turns facts into edit rows, and their storage and publication.

Layers, each in its own module: ``config`` (the ``dataset.wikidata`` section) →
``queries`` (validated SPARQL text) → ``sparql`` (client: retries, cache, embedded
snapshot) → ``relations`` / ``subjects`` / ``targets`` / ``templates`` / ``neighbors``
(one policy each; ``splits``: the tune and test halves) → ``linking`` (``kl:`` subjects to
Q-ids, on evidence) → ``builder`` → ``store`` / ``card`` / ``fingerprint`` / ``hub`` → ``cli``.
"""

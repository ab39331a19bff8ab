"""AKD: average pairwise L2 distance between the batch's keys, per edited layer.

Keys are read on the unedited model exactly as the methods read them (subject's last
token, averaged over the context templates). Same-subject requests whose prompts begin
with the subject share their key, so their AKD is 0 and ``akd_collisions`` counts the
pairs of keys that are identical or nearly so. Neither is a mean over edits: reports give
their n (the batch's edits) and no interval.
"""

from __future__ import annotations

from kedit.editing.keys import compute_keys
from kedit.editing.solve import average_key_distance, key_collisions
from kedit.metrics.base import mean, register_metric


def _keys_by_layer(seen, requests, ectx):
    return {layer: compute_keys(seen.loaded, requests, layer, list(ectx.templates)) for layer in ectx.edit_layers}


@register_metric("akd", before=_keys_by_layer, before_reads_context=True)
def akd(seen, requests, ectx, keys):
    per_layer = {layer: average_key_distance(k) for layer, k in keys.items()}
    out = {"akd": mean(per_layer.values())}
    out |= {f"akd_layer_{layer}": v for layer, v in per_layer.items()}
    out["akd_collisions"] = max((key_collisions(k) for k in keys.values()), default=0)
    return out

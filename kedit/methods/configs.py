"""Every method's hyper-parameters, and the method table: what a spec may say, without the engine.

Each method's config is a dataclass with help text (the spec schema is generated from them;
a field's ``symbol``, λ, is how a sweep's labels name it) and is registered here with its summary and the function that computes it, named as
``module:function`` and imported on first use (:attr:`Method.compute`). Nothing here
imports torch: ``kedit validate`` parses every method entry with these classes, as
``transformers`` reads a ``configuration_*.py`` without its ``modeling_*.py``.

The implementations: :mod:`kedit.methods.memit` (MEMIT, MEMIT-Merge),
:mod:`kedit.methods.alphaedit`, :mod:`kedit.methods.pmet` and :mod:`kedit.methods.ft`;
the first three run :func:`kedit.methods.locate.locate_and_edit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from kedit.editing.requests import EditRequest, group_indices, split_template
from kedit.methods.registry import MethodConfig, register
from kedit.util import help_field

if TYPE_CHECKING:  # annotations only
    from kedit.editing.shared_values import ValueJob
    from kedit.editing.values import ValueSettings
    from kedit.methods.context import EditContext

GROUP_BY = ("none", "subject")
CONTEXT_SOURCES = ("model", "corpus")  # the keys of kedit.editing.prefixes.PREFIX_SOURCES (which needs torch)
STOP_ON = ("loss", "nll")  # the keys of kedit.editing.values.optimise.STOP_MEASURES (which needs torch)


@dataclass
class LocateEditConfig(MethodConfig):
    """Hyper-parameters shared by the MEMIT family (names follow EasyEdit's hparams files)."""

    layers: list[int] = help_field([4, 5, 6, 7, 8], "Edited layers, ascending; the target value is optimised at the last one.")
    v_lr: float = help_field(0.5, "Adam learning rate of the value deltas.", minimum=0)
    v_num_grad_steps: int = help_field(25, "Forward passes of value optimisation (updates are one fewer).", minimum=1)
    v_weight_decay: float = help_field(1e-3, "Weight of ||delta|| / ||initial value||^2 in the value loss.", minimum=0)
    clamp_norm_factor: float = help_field(4.0, "Each delta is clamped to this factor times the initial value's norm.", exclusiveMinimum=0)
    kl_factor: float = help_field(0.0625, "Weight of KL(current || initial) after the subject on the KL prompt.", minimum=0)
    early_stop_loss: float = help_field(5e-2, "A group stops optimising once its NLL per fact + KL + decay (early_stop_on: loss) or its NLL per fact (nll) is below this.", minimum=0)
    early_stop_on: Literal["loss", "nll"] = help_field(
        "loss", "What early_stop_loss is compared with: 'loss' (MEMIT's: NLL per fact + KL + decay) or 'nll' (NLL per fact alone; "
        "the KL and decay terms still shape every step, but no longer keep a group whose facts are learnt optimising).")
    kl_prompt: str = help_field("{} is a", "Prompt whose next-token distribution after the subject is kept (KL term).")
    v_loss_layer: int | None = help_field(None, "Layer whose output is scored through the final norm and head; null: the last layer.")
    context_tokens: int = help_field(10, "Length of the context prefixes keys and values average over (0: bare prompt only).", minimum=0)
    context_source: Literal["model", "corpus"] = help_field(
        "model", "Where the context prefixes come from: 'model' samples them from the model (MEMIT's); 'corpus' takes the "
        "opening tokens of paragraphs of the statistics corpus (real text).")
    group_by: Literal["none", "subject"] = help_field(
        "none", "'subject' optimises one shared value per subject and sums its facts' losses (the -Merge variants)."
    )
    preserve_subjects: int = help_field(
        0, "Other subjects whose keys the update keeps: built-in names (none of the batch's, none in its scored prompts) put "
        "into the batch's edit prompts; 0: none (kedit/editing/preserve.py).", minimum=0)
    preserve_weight: float = help_field(1.0, "μ: weight of each preserved subject's key against an edit's key in the solve.", minimum=0)

    def __post_init__(self):
        if not self.layers or list(self.layers) != sorted(set(self.layers)) or min(self.layers) < 0:
            raise ValueError(f"layers must be a non-empty ascending list of distinct layer indices, got {self.layers}")
        if self.group_by not in GROUP_BY:
            raise ValueError(f"group_by must be one of {GROUP_BY}, got {self.group_by!r}")
        if self.context_source not in CONTEXT_SOURCES:
            raise ValueError(f"context_source must be one of {CONTEXT_SOURCES}, got {self.context_source!r}")
        if self.early_stop_on not in STOP_ON:
            raise ValueError(f"early_stop_on must be one of {STOP_ON}, got {self.early_stop_on!r}")
        try:
            split_template(self.kl_prompt)
        except ValueError as err:
            raise ValueError(f"kl_prompt {self.kl_prompt!r} is not a subject template: {err}") from None
        if self.v_loss_layer is not None and self.v_loss_layer < self.layers[-1]:
            raise ValueError(f"v_loss_layer {self.v_loss_layer} is below the last edited layer {self.layers[-1]}")

    def fitted_templates(self) -> tuple[str, ...]:
        return (self.kl_prompt,)

    def layers_used(self) -> list[int]:
        return list(self.layers) + ([self.v_loss_layer] if self.v_loss_layer is not None else [])

    def statistics_layers(self) -> list[int]:
        return list(self.layers)

    def value_sites(self, arch) -> list[str]:
        """Module path templates whose outputs get the value deltas; the last one's value drives
        the update. MEMIT's: the block output (the residual stream)."""
        return [arch.block]

    def value_job(self, ctx: EditContext, requests: Sequence[EditRequest]) -> ValueJob:
        """What step 1 of :func:`~kedit.methods.locate.locate_and_edit` optimises for ``requests``."""
        # the engine (torch): imported when a run asks, so that validating a spec needs none
        from kedit.editing.shared_values import ValueJob

        groups = group_indices(requests, None if self.group_by == "none" else self.group_by)
        return ValueJob(
            layer=self.layers[-1],
            sites=tuple(self.value_sites(ctx.loaded.arch)),
            templates=tuple(ctx.templates(self.context_tokens, self.context_source)),
            settings=self.value_settings(),
            requests=tuple(requests),
            groups=tuple(tuple(g) for g in groups),
        )

    def value_settings(self) -> ValueSettings:
        from kedit.editing.values import ValueSettings  # the engine, as in value_job

        return ValueSettings(
            v_lr=self.v_lr,
            v_num_grad_steps=self.v_num_grad_steps,
            v_weight_decay=self.v_weight_decay,
            clamp_norm_factor=self.clamp_norm_factor,
            kl_factor=self.kl_factor,
            early_stop_loss=self.early_stop_loss,
            kl_prompt=self.kl_prompt,
            loss_layer=self.v_loss_layer,
            early_stop_on=self.early_stop_on,
        )


@dataclass
class MEMITConfig(LocateEditConfig):
    mom2_update_weight: float = help_field(15000.0, "λ: weight of the preserved-key second moment C in (λC + KKᵀ).", minimum=0, symbol="λ")


@dataclass
class MEMITMergeConfig(MEMITConfig):
    group_by: Literal["none", "subject"] = help_field("subject", "MEMIT-Merge: one shared value per subject, losses summed.")


@dataclass
class AlphaEditConfig(LocateEditConfig):
    L2: float = help_field(10.0, "λ: ridge term of (K Kᵀ P + λ I) (AlphaEdit's L2).", exclusiveMinimum=0, symbol="λ")
    nullspace_threshold: float = help_field(2e-2, "Eigenvalues of E[k kᵀ] below this define the null space kept free.", exclusiveMinimum=0)


@dataclass
class PMETConfig(LocateEditConfig):
    mom2_update_weight: float = help_field(15000.0, "λ: weight of the preserved-key second moment C in (λC + KKᵀ).", minimum=0, symbol="λ")

    def value_sites(self, arch) -> list[str]:
        """PMET's: the attention and MLP output projections, optimised jointly."""
        return [arch.attn_out, arch.mlp_out]


@dataclass
class FTConfig(MethodConfig):
    """Constrained fine-tuning of MLP output projections."""

    layers: list[int] = help_field([21], "Layers whose MLP output projection is fine-tuned (EasyEdit: 21 for GPT-J/Llama, 15 for Qwen).")
    lr: float = help_field(5e-4, "Adam learning rate.", exclusiveMinimum=0)
    num_steps: int = help_field(25, "Optimisation steps (full batch).", minimum=1)
    norm_constraint: float = help_field(5e-5, "L-infinity bound on each weight's change; 0 or less: unconstrained.")
    early_stop_loss: float = help_field(1e-2, "Stop once the mean NLL per edit is below this.", minimum=0)

    def __post_init__(self):
        if not self.layers or min(self.layers) < 0:
            raise ValueError(f"layers must be a non-empty list of layer indices, got {self.layers}")


register("MEMIT", MEMITConfig, "kedit.methods.memit:compute_memit",
         "Mass-editing memory in a transformer: least squares over several MLP layers.")
register("MEMIT-Merge", MEMITMergeConfig, "kedit.methods.memit:compute_memit",
         "MEMIT with one shared value per subject (same-subject batches).")
register("AlphaEdit", AlphaEditConfig, "kedit.methods.alphaedit:compute_alphaedit",
         "MEMIT's update projected onto the null space of preserved keys.")
register("PMET", PMETConfig, "kedit.methods.pmet:compute_pmet",
         "MEMIT with attention and MLP deltas optimised jointly; only the MLP is written.")
register("FT-L", FTConfig, "kedit.methods.ft:compute_ft",
         "Fine-tune MLP output projections on the edits with an L-infinity bound.")

"""Tiny random models of every supported architecture, the text their tokenizer is trained on,
and the plain helpers the tests share (fixtures are in tests/conftest.py)."""

from __future__ import annotations

import torch

SENTENCES = [
    "Danielle Darrieux's mother tongue is French.",
    "The name of the father of John Smith is Mark Twain.",
    "John Smith's birthplace is Tokyo and his employer is Google.",
    "Michel Rocard was born in Paris, the capital of France.",
    "Thomas Ong is a citizen of Singapore; his father is Lee Kuan Yew.",
    "The quick brown fox jumps over the lazy dog because it is a fox.",
    "Therefore I think you are right about the weather in London.",
    "Alice Brown's occupation is painter. Bob Jones's occupation is actor.",
    "The name of the employer of Alice Brown is Microsoft.",
] * 4

# Four same-subject edit rows (kedit's own row format) for end-to-end runs on a tiny model.
ROWS = [
    dict(subject="John Smith", prompt="{}'s birthplace is", target_new="Tokyo",
         paraphrase_prompts=["The name of the birthplace of John Smith is"],
         neighborhood_prompts=[{"prompt": "Thomas Ong's birthplace is", "target": "Singapore"}]),
    dict(subject="John Smith", prompt="{}'s employer is", target_new="Google",
         paraphrase_prompts=["The name of the employer of John Smith is"],
         neighborhood_prompts=[{"prompt": "Alice Brown's employer is", "target": "Microsoft"}]),
    dict(subject="John Smith", prompt="{}'s mother tongue is", target_new="French",
         paraphrase_prompts=["The name of the mother tongue of John Smith is"],
         neighborhood_prompts=[{"prompt": "Michel Rocard's mother tongue is", "target": "French"}]),
    dict(subject="John Smith", prompt="{}'s occupation is", target_new="painter",
         paraphrase_prompts=["The name of the occupation of John Smith is"],
         neighborhood_prompts=[{"prompt": "Bob Jones's occupation is", "target": "actor"}]),
]


# (model_type, config class name, config kwargs) — every architecture in models/architectures.yaml
# that kedit claims to support, tiny enough that a test runs in a fraction of a second.
TINY = {
    "gpt2": ("GPT2Config", dict(n_embd=32, n_layer=4, n_head=2, n_inner=64, n_positions=128)),
    "gptj": ("GPTJConfig", dict(n_embd=32, n_layer=4, n_head=2, n_inner=64, rotary_dim=8, n_positions=128)),
    "llama": ("LlamaConfig", dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, num_key_value_heads=1, intermediate_size=64)),
    "qwen2": ("Qwen2Config", dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, num_key_value_heads=1, intermediate_size=64)),
    "gemma3_text": (
        "Gemma3TextConfig",
        dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, num_key_value_heads=1, intermediate_size=64, head_dim=16, sliding_window=64),
    ),
    "mistral": ("MistralConfig", dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, num_key_value_heads=1, intermediate_size=64, sliding_window=None)),
    "qwen3": ("Qwen3Config", dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, num_key_value_heads=1, intermediate_size=64, head_dim=16)),
    "gemma2": (
        "Gemma2Config",
        dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, num_key_value_heads=1, intermediate_size=64, head_dim=16, sliding_window=64),
    ),
    "olmo2": ("Olmo2Config", dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, num_key_value_heads=1, intermediate_size=64)),
    "phi3": ("Phi3Config", dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, num_key_value_heads=1, intermediate_size=64)),
    "phi": ("PhiConfig", dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64)),
    "gpt_neox": ("GPTNeoXConfig", dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64)),
    "gpt_neo": ("GPTNeoConfig", dict(hidden_size=32, num_layers=4, num_heads=2, intermediate_size=64, attention_types=[[["global", "local"], 2]], window_size=64, max_position_embeddings=128)),
    "falcon": ("FalconConfig", dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, ffn_hidden_size=64, new_decoder_architecture=False)),
}


def make_tiny(model_type: str, tokenizer, seed: int = 0, dtype=torch.float32, device: str = "cpu"):
    import transformers

    from kedit.models import prepare

    cls_name, kwargs = TINY[model_type]
    config = getattr(transformers, cls_name)(
        vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.eos_token_id, **kwargs
    )
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_config(config).to(dtype)
    return prepare(model, tokenizer, name=f"tiny-{model_type}", source="random", device=device)


def evaluate(ctx, method: str, hparams: dict | None, requests, metrics, before=None):
    """One cell as ``kedit run`` runs it: ``method`` with ``hparams`` on ``requests``, scored with
    ``metrics`` (registered names, or :class:`kedit.metrics.Metric` objects made by a test)."""
    from kedit.experiment.evaluate import edit_and_evaluate
    from kedit.methods import MethodRun
    from kedit.metrics import get_metric

    chosen = [get_metric(m) if isinstance(m, str) else m for m in metrics]
    return edit_and_evaluate(ctx, MethodRun.of(method, hparams), requests, chosen, before)


TINY_HP = dict(layers=[1, 2], v_num_grad_steps=6, v_lr=0.5, context_tokens=3, mom2_update_weight=10.0)
_VALUES = dict(layers=[1, 2], v_num_grad_steps=6, v_lr=0.5, context_tokens=3)
# every registered method, with settings that make it run in a fraction of a second on a tiny model
METHOD_HP = {
    "MEMIT": TINY_HP,
    "MEMIT-Merge": TINY_HP,
    "PMET": _VALUES | {"mom2_update_weight": 10.0},
    "AlphaEdit": _VALUES | {"L2": 1.0, "nullspace_threshold": 1e-2},
    "FT-L": dict(layers=[2], num_steps=5, lr=1e-3, norm_constraint=1e-4),
}


def ctx_for(loaded, corpus, templates=None):
    """An edit context over ``corpus`` (the ``corpus`` fixture, or None for methods that need no
    statistics) with 64 windows of 16 tokens: second moments in a fraction of a second."""
    from kedit.methods import EditContext, StatsSettings

    return EditContext(loaded, StatsSettings(corpus=corpus, n_samples=64, max_length=16), templates=templates, progress=False)


def tensor_bytes(t: torch.Tensor) -> bytes:
    """A tensor's raw bytes: equal exactly when the tensors are bit-identical."""
    return t.detach().contiguous().view(torch.uint8).numpy().tobytes()


def mlp_outputs(loaded, reqs, layer):
    """(n_requests, d_model): the MLP output of ``layer`` at each request's subject's last token."""
    from kedit.editing.keys import subject_states

    return subject_states(loaded, reqs, ["{}"], {"y": (loaded.arch.mlp_out, layer, "output")})["y"][:, 0]


def block_outputs(loaded, reqs, layer):
    """(n_requests, d_model): the residual stream after block ``layer`` at each subject's last token."""
    from kedit.editing.keys import subject_states

    return subject_states(loaded, reqs, ["{}"], {"z": (loaded.arch.block, layer, "output")})["z"][:, 0]


def offloaded(arch, tokenizer, runs_on: str = "cpu"):
    """A tiny model whose every parameter is offloaded to a CPU copy and loaded per forward onto ``runs_on``."""
    from accelerate import cpu_offload

    from kedit.models import prepare

    model = make_tiny(arch, tokenizer).model
    cpu_offload(model, execution_device=torch.device(runs_on))
    assert all(p.device.type == "meta" for p in model.parameters())
    return prepare(model, tokenizer, name=f"tiny-{arch}-offloaded", source="random", device=None)

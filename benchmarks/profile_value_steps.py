"""Where a value-optimisation step's time goes: a random model of SmolLM2-135M's shape.

    python benchmarks/profile_value_steps.py [--steps 10]

No model file is needed (a random llama of SmolLM2-135M's shape: 30 layers, width 576, MLP
1536, vocab 49152; bfloat16 on a GPU, float32 on the CPU), so it runs on a machine that can
receive only source. Times value optimisation at layer 8 for 1, 16 and 88 edits (batched)
and for 4 edits one at a time the reference implementations' way, each over ``--steps``
steps with early stopping off (time per step includes the first, delta-free pass); then
profiles the 16-edit run: FLOPs per step and the rate of the matrix products, GPU kernel
time and kernel launches per step, and the operators that take the most CPU time.
"""

from __future__ import annotations

import argparse
import json
import time

from common import ROOT, machine, write_results

SMOLLM2_SHAPE = dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3, tie_word_embeddings=True)


def random_smollm2_shape():
    import sys

    import torch
    import transformers
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    sys.path.insert(0, str(ROOT))
    from kedit.models import prepare
    from tests.tiny import SENTENCES

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(SENTENCES, vocab_size=400, min_frequency=1, special_tokens=["<|endoftext|>"])
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    on_gpu = torch.cuda.is_available()
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(transformers.LlamaConfig(**SMOLLM2_SHAPE)).to(torch.bfloat16 if on_gpu else torch.float32)
    return prepare(model, tok, name="random-smollm2-shape", source="random", device="cuda" if on_gpu else "cpu")


def measure(steps: int) -> tuple[dict, str]:
    import torch
    from torch.profiler import ProfilerActivity, profile

    from kedit.editing.requests import group_indices, make_requests
    from kedit.editing.values import VALUE_OPTIMISERS
    from kedit.methods import get_method

    loaded = random_smollm2_shape()
    on_gpu = loaded.device.type == "cuda"
    subjects = ["John Smith", "Alice Brown", "Danielle Darrieux", "Thomas Ong", "Michel Rocard", "Bob Jones"]
    reqs = make_requests([dict(subject=f"{subjects[i % 6]} {i}", prompt="{}'s birthplace is", target_new="Tokyo") for i in range(88)])
    hp = dict(layers=[4, 5, 6, 7, 8], v_num_grad_steps=steps, early_stop_loss=0.0, context_tokens=0)
    settings = get_method("MEMIT").parse(hp).value_settings()

    def timed(n: int, mode: str) -> float:
        r = reqs[:n]
        if on_gpu:
            torch.cuda.synchronize()
        t = time.perf_counter()
        VALUE_OPTIMISERS[mode](loaded, r, group_indices(r, None), 8, ["{}"], settings)
        if on_gpu:
            torch.cuda.synchronize()
        return time.perf_counter() - t

    timed(2, "batched")  # warm-up
    out = {"device": str(loaded.device), "dtype": str(next(loaded.model.parameters()).dtype), "steps": steps}
    for n in (1, 16, 88):
        out[f"batched_{n}_s_per_step"] = timed(n, "batched") / steps
    out["reference_loop_4_s_per_edit_step"] = timed(4, "reference_loop") / (4 * steps)
    with profile(activities=[ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_gpu else []), with_flops=True) as prof:
        timed(16, "batched")
    events = prof.key_averages()
    mm = [e for e in events if e.key == "aten::mm"]
    mm_s = sum(e.self_device_time_total if on_gpu else e.self_cpu_time_total for e in mm) / 1e6
    out["gflop_per_step_16_edits"] = sum(e.flops for e in events) / 1e9 / steps
    out["matmul_gflop_per_s"] = sum(e.flops for e in mm) / 1e9 / mm_s
    kernels = [e for e in events if e.device_type == torch.autograd.DeviceType.CUDA]  # the kernels themselves, not the ops that launch them
    out["cuda_kernel_s_per_step_16_edits"] = sum(e.self_device_time_total for e in kernels) / 1e6 / steps if on_gpu else None
    out["kernel_launches_per_step"] = sum(e.count for e in events if e.key.startswith("cudaLaunchKernel")) / steps if on_gpu else None
    return out, events.table(sort_by="self_cpu_time_total", row_limit=15)


def report(out: dict, table: str, where: dict) -> None:
    per_step = lambda k: f"{out[k] * 1000:.0f} ms"  # noqa: E731
    gpu = out.get("cuda_kernel_s_per_step_16_edits", out.get("cuda_kernel_s_per_step_1_edit"))
    edits = 16 if "cuda_kernel_s_per_step_16_edits" in out or gpu is None else 1
    md = [
        f"# Value-optimisation steps on {where.get('gpu') or where['cpu']} ({out['dtype']}, random model of SmolLM2-135M's shape)",
        "",
        f"{out['steps']} steps at layer 8, early stopping off; time per step includes the first (delta-free) pass. One run each.",
        "",
        "| run | time per step |",
        "|---|---|",
        *[f"| batched, {n} edit(s) | {per_step(f'batched_{n}_s_per_step')} |" for n in (1, 16, 88)],
        f"| reference loop (one edit at a time, whole prompts), per edit | {per_step('reference_loop_4_s_per_edit_step')} |",
        "",
        f"88 edits batched: {out['batched_88_s_per_step']:.3f} s per step; the reference loop would take "
        f"{88 * out['reference_loop_4_s_per_edit_step']:.2f} s per step for the same 88 edits "
        f"({88 * out['reference_loop_4_s_per_edit_step'] / out['batched_88_s_per_step']:.0f}x).",
        "",
        *(
            [
                f"GPU kernels run {gpu * 1000:.1f} ms of a {out[f'batched_{edits}_s_per_step'] * 1000:.0f} ms step with {edits} edit(s) "
                f"({out['kernel_launches_per_step']:.0f} kernel launches per step): a step this small is bound by launching "
                "kernels and by Python/autograd on the host, not by the GPU.",
                "",
            ]
            if gpu is not None
            else []
        ),
        *(
            [
                f"{out['gflop_per_step_16_edits']:.1f} GFLOP per step with 16 edits (first pass included); matrix products run at "
                f"{out['matmul_gflop_per_s']:.0f} GFLOP/s.",
                "",
            ]
            if "matmul_gflop_per_s" in out
            else []
        ),
        f"Operators by self CPU time (the {edits}-edit run):",
        "",
        "```",
        table,
        "```",
        "",
        f"Machine: {json.dumps(where)}",
        "",
    ]
    tag = "cuda_bfloat16" if gpu is not None else "cpu_float32"
    write_results(f"value_steps_profile_{tag}", {"machine": where, **out}, "\n".join(md))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=10)
    args = p.parse_args()
    out, table = measure(args.steps)
    report(out, table, machine())


if __name__ == "__main__":
    main()

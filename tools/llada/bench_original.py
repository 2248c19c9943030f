#!/usr/bin/python3
"""Times the ORIGINAL LLaDA-V code (ML-GSAI/LLaDA-V, run as make_llada_v_goldens.py runs it) on a
synthetic LLaDA-V checkpoint written by bench_llada_v (our synthetic writer): the peer of
bench/bench_llada_v.cpp in BENCHMARKS.md ("LLaDA-V at full size").

Usage:
  bash tools/llada/get_originals.sh /tmp/llada-orig
  build/bench/bench_llada_v --layers 2 --skip-runs --skip-vision   # writes /tmp/llada-v-synthetic-L2-T26
  /usr/bin/python3 tools/llada/bench_original.py /tmp/llada-v-synthetic-L2-T26 --dtype float32 --threads 2

Measured, on one image of the given size (a smooth pattern, as bench_llada_v draws it):
  - vision: prepare_inputs_labels_for_multimodal on the image prompt (anyres crops, SigLIP, projector,
    layout, the prompt's rows): what `dimple run --json` reports as prompt_s;
  - steps: model.generate(steps = gen_length = block_length = N), each forward timed from LM
    layer 0's input to lm_head's output (forward hooks), so the step rule is not in it: no prefilling.
The original builds the model in float32 and loads every tensor (our shim's from_pretrained, as the
goldens do), then casts to --dtype: the full 8B model (32 GB in float32) does not fit in 24 GB, hence
the layer-reduced checkpoint.
"""
import argparse
import json
import os
import resource
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import originals  # noqa: E402

IDS = {"bos": 126080, "mask": 126336, "start_header": 126346, "end_header": 126347, "eot": 126348,
       "assistant": 598}
# The same prompt as bench_llada_v's --prompt-ids (18 ids, -200 = the image).
PROMPT = [126080, 126346, 3840, 126347, 198, -200, 198, 3838, 374, 304, 279, 6683, 30, 126348, 126346, 598,
          126347, 198]


def pattern(side):
    """bench_llada_v's pattern_image: R = x ^ y, G = y * 255 / h, B = x * 255 / w."""
    y, x = np.mgrid[0:side, 0:side]
    rgb = np.stack([(x ^ y) & 255, y * 255 // side, x * 255 // side], axis=-1).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


def tower_folder(mdir, name):
    """The tower config folder: mm_vision_tower itself when it is one, else the so400m sizes (the hub
    tower LLaDA-V names is not reachable here) with the checkpoint's layer count + 1."""
    path = name if os.path.isabs(name) else os.path.join(mdir, name)
    if os.path.isfile(os.path.join(path, "config.json")):
        return path
    with open(os.path.join(mdir, "model.safetensors.index.json")) as f:
        names = json.load(f)["weight_map"]
    layers = len({k.split("encoder.layers.")[1].split(".")[0] for k in names if "encoder.layers." in k})
    d = tempfile.mkdtemp(prefix="siglip-so400m-")  # builder.py requires "siglip" in the name
    cfg = {"model_type": "siglip_vision_model", "hidden_size": 1152, "intermediate_size": 4304,
           "num_hidden_layers": layers + 1, "num_attention_heads": 16, "num_channels": 3, "image_size": 384,
           "patch_size": 14, "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": 1e-6}
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f)
    return d


def load(V, mdir, dtype):
    cfg = V.llava_llada.LlavaLLaDAConfig.from_pretrained(mdir)
    cfg.mm_vision_tower = tower_folder(mdir, cfg.mm_vision_tower)
    # The tower folder holds only a config: the tower is built from it with fresh weights, which the
    # strict load of the whole checkpoint (tower included) then replaces, as the goldens' load does.
    tower_cls = V.siglip.SigLipVisionModel
    tower_cls.from_pretrained = classmethod(lambda cls, folder, **kw: cls(cls.config_class.from_pretrained(folder)))
    return V.llava_llada.LlavaLLaDAModelLM.from_pretrained(mdir, config=cfg, attn_implementation="sdpa",
                                                            torch_dtype=dtype)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="a folder written by bench_llada_v (any --layers / --tower-layers)")
    ap.add_argument("--orig", default="/tmp/llada-orig")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("-n", "--answer", type=int, default=8, help="answer tokens = steps, one block")
    ap.add_argument("--sizes", default="384,768", help="image sides for the vision timing")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    V = originals.load_v(a.orig)
    t0 = time.perf_counter()
    model = load(V, a.model, dtype)
    load_s = time.perf_counter() - t0
    proc = model.get_vision_tower().image_processor
    print(f"{a.model}: {a.dtype}, {a.threads} threads, load {load_s:.1f} s, "
          f"{sum(p.numel() for p in model.parameters()) / 1e9:.2f} B parameters", flush=True)

    vision = {}
    for side in [int(s) for s in a.sizes.split(",")]:
        img = pattern(side)
        images = [t.to(dtype) for t in V.mm_utils.process_images([img], proc, model.config)]
        with torch.no_grad():
            t1 = time.perf_counter()
            out = model.prepare_inputs_labels_for_multimodal(torch.tensor([PROMPT]), None, None, None, None,
                                                              images, ["image"], image_sizes=[img.size])
            vision[side] = (time.perf_counter() - t1, int(out[4].shape[1]), int(images[0].shape[0]))
        print(f"  vision {side}x{side}: {vision[side][2]} crops, {vision[side][1]} prompt rows, "
              f"{vision[side][0]:.2f} s", flush=True)

    # Steps on the 384x384 image's prompt, timed inside the forward.
    img = pattern(384)
    images = [t.to(dtype) for t in V.mm_utils.process_images([img], proc, model.config)]
    starts, steps = [], []
    hooks = [model.get_model().layers[0].register_forward_pre_hook(lambda m, i: starts.append(time.perf_counter())),
             model.lm_head.register_forward_hook(lambda m, i, o: steps.append(time.perf_counter() - starts[-1]))]
    with torch.no_grad():
        t2 = time.perf_counter()
        model.generate(torch.tensor([PROMPT]), images=images, image_sizes=[img.size], steps=a.answer,
                       gen_length=a.answer, block_length=a.answer, temperature=0.0, remasking="low_confidence")
        gen_s = time.perf_counter() - t2
    for h in hooks:
        h.remove()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"  generate: {len(steps)} forwards, {gen_s:.1f} s in all (vision included); forward "
          f"first {steps[0]:.2f} s, mean {sum(steps) / len(steps):.2f} s; peak RSS {peak:.2f} GiB", flush=True)
    print(json.dumps({"dtype": a.dtype, "threads": a.threads, "load_s": load_s,
                      "vision_s": {str(k): v[0] for k, v in vision.items()},
                      "prompt_rows": {str(k): v[1] for k, v in vision.items()},
                      "step_s": steps, "peak_rss_gib": peak}))


if __name__ == "__main__":
    main()

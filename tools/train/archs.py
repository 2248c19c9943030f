"""The architectures tools/train trains, and what differs between them for train.py: Dimple
(models/dimple-shapes: Qwen2.5-VL tower, Dream LM; autoregressive and diffusion objectives) and
LLaDA-V (models/llada-v-shapes: SigLIP tower with anyres tiles, LLaDA LM; diffusion only)."""
import os
from dataclasses import dataclass
from types import ModuleType

import checkpoint
import data
import llada_v_checkpoint
import llada_v_data
import llada_v_objective
import llada_v_probe
import llada_v_regions
import objectives
import regions

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models")


@dataclass
class Arch:
    checkpoint: ModuleType    # SHAPE, fresh_model, model_of, export
    batches: type             # Batches(tok, seed, split, images, questions).get(step, weights)
    objectives: ModuleType    # loss(model, batch, objective, generator)
    trained_with: tuple       # the objectives its loss accepts (validation reports each)
    projector: str            # weight-name prefixes: the projector (alignment trains it alone)
    tower: str                # and the vision tower (--vision-lr-scale)
    tokenizer: str            # default --tokenizer
    regions: ModuleType       # vision pretraining: ImageBatches, features, probe_width
    reading: ModuleType = None  # validation_items(tok, seed), validation_scores(model, items): is the picture read


ARCHS = {
    "dimple": Arch(checkpoint, data.Batches, objectives, ("autoregressive", "diffusion"), "img_projector.",
                   "visual.", os.path.join(MODELS, "dimple-shapes"), regions),
    "llada-v": Arch(llada_v_checkpoint, llada_v_data.Batches, llada_v_objective, ("diffusion",),
                    "model.mm_projector.", "model.vision_tower.", os.path.join(MODELS, "llada-v-shapes"),
                    llada_v_regions, llada_v_probe),
}

"""LLaDA-V's generate_with_embeds at temperature 0 (spec llada.md section 7): one block, low-confidence
remasking, `steps` steps over `gen_length` masks, the banned ids never chosen at a mask, generation
ending once a stop id is committed with no mask before it. Written from the spec; the engine's
LLaDA-V decoding was checked against the original's on tests/goldens/llada-v-tiny, and this one is
checked against the engine on the trained toy (check_engine.py)."""
import torch

from . import model as M


def generate(w, s, prompt_ids, image_rows, mask_id, banned, stop_ids, gen_length=64, steps=64):
    """The answer's ids up to (not including) the first committed stop id."""
    prompt = M.splice(w, prompt_ids, image_rows)
    L = prompt.shape[0]
    x = [mask_id] * gen_length
    stop = None
    n = gen_length
    for i in range(steps):
        masks = [p for p in range(gen_length) if x[p] == mask_id]
        if stop is not None and not any(p < stop for p in masks):
            break
        if not masks:
            break
        count = n // steps + (1 if i < n % steps else 0)
        embeds = torch.cat([prompt, torch.nn.functional.embedding(torch.tensor(x), w["model.embed_tokens.weight"])])
        with torch.no_grad():
            logits = M.lm_forward(w, s, embeds[None])[0, L:].double()
        logits[:, banned] = float("-inf")
        x0 = logits.argmax(-1)
        conf = torch.softmax(logits, -1).gather(1, x0[:, None])[:, 0]
        limit = stop if stop is not None else gen_length
        conf[limit:] = float("-inf")
        unmasked = torch.tensor([x[p] != mask_id for p in range(gen_length)])
        conf[unmasked] = float("-inf")
        for p in torch.topk(conf, count).indices.tolist():
            if conf[p] > float("-inf"):
                x[p] = int(x0[p])
        for p, t in enumerate(x):
            if t in stop_ids:
                stop = p if stop is None else min(stop, p)
                break
    end = stop if stop is not None else gen_length
    return x[:end]

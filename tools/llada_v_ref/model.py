"""LLaDA-V, written from the spec (../shared/spec/llada.md sections 4-5) as plain functions over a
name -> tensor dict in the published layout: the SigLIP tower without its last layer, the
mlp2x_gelu projector, the anyres image rows (base, unpadded tile map, image_newline, the
anyres_max interpolation; or the map max-pooled 2x2 or as it is, with or without the base view, as
mm_patch_merge_type says) and the LLaMA-named LLaDA language model (bidirectional, 1-D RoPE, no
biases, unshifted logits). Differentiable, so tools/train trains it; checked against the original
code's outputs in tests/goldens/llada-v-tiny by check_goldens.py.
"""
import math

import torch
import torch.nn.functional as F

TOWER = "model.vision_tower.vision_tower.vision_model."
CROP, PATCH = 384, 14
SIDE = CROP // PATCH            # 27 patches a side, 729 a crop


class Sizes:
    """The sizes a forward needs, from config.json and the tower's config.json."""

    def __init__(self, cfg, tower_cfg):
        self.hidden = cfg["hidden_size"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg.get("num_key_value_heads", self.heads)
        self.layers = cfg["num_hidden_layers"]
        self.eps = cfg.get("rms_norm_eps", 1e-5)
        self.rope_theta = cfg.get("rope_theta", 10000.0)
        self.max_tiles = int(cfg["image_aspect_ratio"].rsplit("_", 1)[1])
        self.pinpoints = [tuple(p) for p in cfg["image_grid_pinpoints"]]
        self.tiles, self.base = merge_type(cfg.get("mm_patch_merge_type", "flat"))
        self.tower_heads = tower_cfg["num_attention_heads"]
        self.tower_layers = tower_cfg["num_hidden_layers"] - 1   # LLaDA-V drops the last layer
        self.tower_eps = tower_cfg.get("layer_norm_eps", 1e-6)


def merge_type(name):
    """mm_patch_merge_type -> (how the tile map becomes rows, whether the base view's rows lead):
    "spatial[_unpad|_maxpool2x2][_nobase]", as prepare_inputs_labels_for_multimodal reads it
    (maxpool2x2 wins over unpad when both are named)."""
    if not name.startswith("spatial"):
        raise ValueError(f"mm_patch_merge_type {name!r}: only the spatial merges are supported")
    tiles = "maxpool2x2" if "maxpool2x2" in name else "unpad" if "unpad" in name else "raster"
    return tiles, "nobase" not in name


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def tower_attention(x, w, p, heads):
    n, c = x.shape[-2:]
    d = c // heads

    def split(t):
        return t.view(*t.shape[:-1], heads, d).transpose(-2, -3)
    q, k, v = (split(F.linear(x, w[p + f"{n_}_proj.weight"], w[p + f"{n_}_proj.bias"])) for n_ in "qkv")
    att = torch.softmax(q @ k.transpose(-1, -2) * d ** -0.5, -1)
    o = (att @ v).transpose(-2, -3).reshape(*x.shape)
    return F.linear(o, w[p + "out_proj.weight"], w[p + "out_proj.bias"])


def tower_forward(w, s, crops):
    """[N, 3, 384, 384] pixel crops -> [N, 729, C]: the output of the tower's last kept layer,
    without post_layernorm (the feature LLaDA-V projects)."""
    x = F.conv2d(crops, w[TOWER + "embeddings.patch_embedding.weight"], w[TOWER + "embeddings.patch_embedding.bias"],
                 stride=PATCH)
    x = x.flatten(2).transpose(1, 2) + w[TOWER + "embeddings.position_embedding.weight"]
    c = x.shape[-1]
    for k in range(s.tower_layers):
        p = f"{TOWER}encoder.layers.{k}."
        h = F.layer_norm(x, (c,), w[p + "layer_norm1.weight"], w[p + "layer_norm1.bias"], s.tower_eps)
        x = x + tower_attention(h, w, p + "self_attn.", s.tower_heads)
        h = F.layer_norm(x, (c,), w[p + "layer_norm2.weight"], w[p + "layer_norm2.bias"], s.tower_eps)
        h = gelu_tanh(F.linear(h, w[p + "mlp.fc1.weight"], w[p + "mlp.fc1.bias"]))
        x = x + F.linear(h, w[p + "mlp.fc2.weight"], w[p + "mlp.fc2.bias"])
    return x


def project(w, feats):
    h = F.gelu(F.linear(feats, w["model.mm_projector.0.weight"], w["model.mm_projector.0.bias"]))
    return F.linear(h, w["model.mm_projector.2.weight"], w["model.mm_projector.2.bias"])


def select_best_resolution(size_wh, pinpoints):
    """The candidate (w, h) that keeps most of the image and wastes least (spec section 3)."""
    W, H = size_wh
    best, best_eff, best_waste = None, -1, math.inf
    for w, h in pinpoints:
        s = min(w / W, h / H)
        eff = min(int(W * s) * int(H * s), W * H)
        waste = w * h - eff
        if eff > best_eff or (eff == best_eff and waste < best_waste):
            best, best_eff, best_waste = (w, h), eff, waste
    return best


def unpad(fmap, size_wh):
    """Drops the map rows or columns that show the black bars of resize_and_pad (spec 4.3)."""
    W, H = size_wh
    _, hc, wc = fmap.shape
    if W / H > wc / hc:
        nh = int(H * (wc / W))
        p = (hc - nh) // 2
        return fmap[:, p:hc - p]
    nw = int(W * (hc / H))
    p = (wc - nw) // 2
    return fmap[:, :, p:wc - p]


def image_rows(w, s, projected, size_wh):
    """One image's rows from its projected crops [1 + tiles, 729, H]: the base view (unless
    "nobase"), then tile_rows."""
    fmap = tile_rows(w, s, projected[1:], size_wh)
    return torch.cat([projected[0], fmap]) if s.base else fmap


def tile_rows(w, s, tiles, size_wh):
    """The rows of the tile map of projected tiles [tiles, 729, H]: unpadded, resampled when over
    anyres_max's budget, each map row ending in image_newline ("unpad"); max-pooled 2x2
    ("maxpool2x2"); or as it is ("spatial")."""
    cols, rows = (v // CROP for v in select_best_resolution(size_wh, s.pinpoints))
    H = tiles.shape[-1]
    fmap = tiles.view(rows, cols, SIDE, SIDE, H).permute(4, 0, 2, 1, 3).reshape(H, rows * SIDE, cols * SIDE)
    if s.tiles == "maxpool2x2":
        fmap = F.max_pool2d(fmap[None], 2)[0].flatten(1).t()
    elif s.tiles == "unpad":
        fmap = unpad(fmap, size_wh)
        _, h, wd = fmap.shape
        t = math.sqrt(h * wd / (s.max_tiles * SIDE ** 2))
        if t > 1.1:
            fmap = F.interpolate(fmap[None], [int(h // t), int(wd // t)], mode="bilinear", align_corners=False)[0]
        newline = w["model.image_newline"].view(H, 1, 1).expand(H, fmap.shape[1], 1)
        fmap = torch.cat([fmap, newline], 2).flatten(1).t()
    else:
        fmap = fmap.flatten(1).t()
    return fmap


def images_rows(w, s, crops, crops_per_image, sizes_wh):
    """[rows, H] of every image, encoded in one tower batch, in image order. Without the base view
    ("nobase") the tower skips it: its output would be dropped (half the tower's work on the toy)."""
    if s.base:
        projected = project(w, tower_forward(w, s, crops))
        return [image_rows(w, s, p, size) for p, size in zip(torch.split(projected, crops_per_image), sizes_wh)]
    first = torch.cumsum(torch.tensor([0] + list(crops_per_image[:-1])), 0)
    keep = torch.ones(len(crops), dtype=torch.bool)
    keep[first] = False
    projected = project(w, tower_forward(w, s, crops[keep]))
    tiles = torch.split(projected, [n - 1 for n in crops_per_image])
    return [tile_rows(w, s, t, size) for t, size in zip(tiles, sizes_wh)]


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rope(x, positions, theta):
    """x [B, heads, T, d]; positions [T] or [B, T]."""
    d = x.shape[-1]
    inv = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d)
    ang = positions[..., None].float() * inv
    if ang.dim() == 3:
        ang = ang[:, None]
    cos, sin = torch.cat([ang, ang], -1).cos(), torch.cat([ang, ang], -1).sin()
    rot = torch.cat([-x[..., d // 2:], x[..., :d // 2]], -1)
    return x * cos + rot * sin


def lm_forward(w, s, embeds, allowed=None, output_rows=None, attention_probe=None, positions=None):
    """embeds [B, T, H] -> logits [B, T, V] (or of `output_rows`, an index into T, only).
    allowed [B, T, T] bool: row i may attend key j (default: every key). positions [B, T]: the
    rows' RoPE positions (default 0..T-1). attention_probe(layer, probs [B, heads, T, T]) sees each
    layer's attention (the study reads it)."""
    B, T, H = embeds.shape
    nh, nkv = s.heads, s.kv_heads
    d = H // nh
    pos = torch.arange(T) if positions is None else positions
    bias = None
    if allowed is not None:
        bias = torch.zeros(B, 1, T, T).masked_fill(~allowed[:, None], float("-inf"))
    x = embeds
    for i in range(s.layers):
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], s.eps)
        q = F.linear(h, w[p + "self_attn.q_proj.weight"]).view(B, T, nh, d).transpose(1, 2)
        k = F.linear(h, w[p + "self_attn.k_proj.weight"]).view(B, T, nkv, d).transpose(1, 2)
        v = F.linear(h, w[p + "self_attn.v_proj.weight"]).view(B, T, nkv, d).transpose(1, 2)
        q, k = rope(q, pos, s.rope_theta), rope(k, pos, s.rope_theta)
        if nkv != nh:
            k, v = k.repeat_interleave(nh // nkv, 1), v.repeat_interleave(nh // nkv, 1)
        scores = q @ k.transpose(-1, -2) * d ** -0.5
        if bias is not None:
            scores = scores + bias
        probs = torch.softmax(scores, -1)
        if attention_probe is not None:
            attention_probe(i, probs)
        o = (probs @ v).transpose(1, 2).reshape(B, T, H)
        x = x + F.linear(o, w[p + "self_attn.o_proj.weight"])
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], s.eps)
        g = F.silu(F.linear(h, w[p + "mlp.gate_proj.weight"])) * F.linear(h, w[p + "mlp.up_proj.weight"])
        x = x + F.linear(g, w[p + "mlp.down_proj.weight"])
    x = rms_norm(x, w["model.norm.weight"], s.eps)
    if output_rows is not None:
        x = x[output_rows]
    return F.linear(x, w["lm_head.weight"])


IMAGE_ID = -200  # LLaVA's IMAGE_TOKEN_INDEX: where an image's rows go


def splice(w, ids, image_rows_list, image_id=IMAGE_ID):
    """[T, H] embeddings of a prompt whose `image_id` entries each stand for the next image's rows."""
    parts, start, k = [], 0, 0
    ids = list(ids)
    for i, t in enumerate(ids + [image_id]):
        if t != image_id:
            continue
        if i > start:
            parts.append(F.embedding(torch.tensor(ids[start:i]), w["model.embed_tokens.weight"]))
        if i < len(ids):
            parts.append(image_rows_list[k])
            k += 1
        start = i + 1
    return torch.cat(parts)

"""The shapes world of issue 8: seeded scenes, their questions and exact answers.

A scene is a background colour, an image size and 1-4 objects (shape, colour name, jittered RGB,
bounding box). `sample_scene(rng)` follows every constraint of the issue; `all_questions(scene)`
lists every question the scene admits with its answer and kind. Rendering lives in render.py.
"""
from dataclasses import dataclass

import numpy as np

SHAPES = ("circle", "square", "triangle")
COLORS = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220),
          "yellow": (235, 200, 40), "purple": (140, 60, 180), "orange": (245, 130, 30)}
NUMBERS = ("zero", "one", "two", "three", "four")
KINDS = ("count", "count_color", "count_shape", "color", "shape", "exists", "leftmost", "describe",
         "json")
SHORT_KINDS = KINDS[:7]

MIN_SIDE, MAX_SIDE = 112, 448
GAP = 4            # pixels between object bounding boxes
CENTRE_DX = 8      # bounding-box centres differ by at least this in x
MAX_OBJECTS = 4


@dataclass
class Obj:
    shape: str
    color: str
    rgb: tuple
    x: int      # bounding box left, top and side (a square box for every shape)
    y: int
    size: int

    @property
    def cx(self):
        return self.x + self.size / 2


@dataclass
class Scene:
    width: int
    height: int
    background: tuple
    objects: list   # left to right by bounding-box centre


def _place(rng, w, h, n):
    """n non-overlapping boxes (GAP apart, centres CENTRE_DX apart in x), or None after many tries."""
    short = min(w, h)
    lo, hi = -(-short // 8), short // 3
    boxes = []
    for _ in range(200):
        if len(boxes) == n:
            return boxes
        s = int(rng.integers(lo, hi + 1))
        x, y = int(rng.integers(0, w - s + 1)), int(rng.integers(0, h - s + 1))
        ok = all((x + s + GAP <= bx or bx + bs + GAP <= x or y + s + GAP <= by or by + bs + GAP <= y)
                 and abs((x + s / 2) - (bx + bs / 2)) >= CENTRE_DX for bx, by, bs in boxes)
        if ok:
            boxes.append((x, y, s))
    return None


def sample_scene(rng, count_weights=None):
    """A random scene of the world (numpy Generator), every constraint of the issue enforced. The
    number of objects is uniform in 1..4, or drawn by count_weights ({n: weight}, missing n weigh 0:
    training may ask more of the crowded scenes; the world itself is uniform)."""
    p = None
    if count_weights:
        p = np.array([float(count_weights.get(n, 0)) for n in range(1, MAX_OBJECTS + 1)])
        p /= p.sum()
    while True:
        w = int(rng.integers(MIN_SIDE, MAX_SIDE + 1))
        h = int(rng.integers(MIN_SIDE, MAX_SIDE + 1))
        if 2 * w < h or 2 * h < w:
            continue
        n = int(rng.integers(1, MAX_OBJECTS + 1)) if p is None else 1 + int(rng.choice(MAX_OBJECTS, p=p))
        boxes = _place(rng, w, h, n)
        if boxes is None:
            continue
        pairs = [(s, c) for s in SHAPES for c in COLORS]
        chosen = rng.choice(len(pairs), size=n, replace=False)
        objs = []
        for (x, y, s), k in zip(boxes, chosen):
            shape, color = pairs[int(k)]
            rgb = tuple(int(min(255, max(0, v + rng.integers(-20, 21)))) for v in COLORS[color])
            objs.append(Obj(shape, color, rgb, x, y, s))
        objs.sort(key=lambda o: o.cx)
        bg = tuple(int(v) for v in rng.integers(200, 256, size=3))
        return Scene(w, h, bg, objs)


def article(word):
    return "an" if word[0] in "aeiou" else "a"


def describe(scene):
    items = [f"{article(o.color)} {o.color} {o.shape}" for o in scene.objects]
    if len(items) == 1:
        return f"There is {items[0]}."
    listed = ", ".join(items[:-1]) + " and " + items[-1]
    return f"There are {NUMBERS[len(items)]} shapes: {listed}."


def as_json(scene):
    return "[" + ", ".join('{"shape": "%s", "color": "%s"}' % (o.shape, o.color)
                           for o in scene.objects) + "]"


def all_questions(scene):
    """Every (kind, question, answer) the scene admits."""
    objs = scene.objects
    out = [("count", "How many shapes are there?", NUMBERS[len(objs)])]
    for c in COLORS:
        out.append(("count_color", f"How many {c} shapes are there?",
                    NUMBERS[sum(o.color == c for o in objs)]))
    for s in SHAPES:
        out.append(("count_shape", f"How many {s}s are there?", NUMBERS[sum(o.shape == s for o in objs)]))
        same = [o for o in objs if o.shape == s]
        if len(same) == 1:
            out.append(("color", f"What color is the {s}?", same[0].color))
    for c in COLORS:
        same = [o for o in objs if o.color == c]
        if len(same) == 1:
            out.append(("shape", f"What shape is the {c} one?", same[0].shape))
    for c in COLORS:
        for s in SHAPES:
            present = any(o.color == c and o.shape == s for o in objs)
            out.append(("exists", f"Is there {article(c)} {c} {s}?", "yes" if present else "no"))
    out.append(("leftmost", "What is the leftmost shape?", f"{objs[0].color} {objs[0].shape}"))
    out.append(("describe", "Describe the image.", describe(scene)))
    out.append(("json", "List the shapes as JSON.", as_json(scene)))
    return out


def sample_question(rng, scene, kind=None):
    """One question of the scene: of `kind`, or of a kind drawn uniformly among those the scene
    admits ("color"/"shape" need a unique object). "exists" is balanced between yes and no."""
    qs = all_questions(scene)
    kinds = sorted({k for k, _, _ in qs}, key=KINDS.index)
    if kind is None:
        kind = kinds[int(rng.integers(len(kinds)))]
    cand = [q for q in qs if q[0] == kind]
    if not cand:
        return None
    if kind == "exists":
        want = "yes" if rng.random() < 0.5 else "no"
        cand = [q for q in cand if q[2] == want] or cand
    return cand[int(rng.integers(len(cand)))]


def all_texts():
    """Every question and every answer word the world can produce (for the tokenizer subset)."""
    texts = ["How many shapes are there?", "Describe the image.", "List the shapes as JSON.",
             "What is the leftmost shape?", "yes", "no", *NUMBERS, *COLORS, *SHAPES]
    for c in COLORS:
        texts.append(f"How many {c} shapes are there?")
        texts.append(f"What shape is the {c} one?")
        for s in SHAPES:
            texts += [f"Is there {article(c)} {c} {s}?", f"{c} {s}"]
    for s in SHAPES:
        texts += [f"How many {s}s are there?", f"What color is the {s}?"]
    return texts

"""Procedural captioned scenes for the demo model: coloured shapes on flat backgrounds.

Pure Python (no torch): the scene/caption generator, the palette and geometry constants, and the
held-out prompt set. `render.py` turns scenes into pixels on the GPU; the TypeScript checker
(`bench/demo-quality.ts`) reads the same constants from `models/demo/heldout-prompts.json`.

    python tools/train-demo/dataset.py --heldout models/demo/heldout-prompts.json
"""
from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass

# Palette: well separated in RGB so that the nearest-colour rule of the checker is unambiguous.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "orange": (245, 140, 25),
    "yellow": (245, 215, 35),
    "green": (40, 165, 65),
    "blue": (35, 80, 215),
    "purple": (140, 60, 185),
    "pink": (245, 135, 190),
    "brown": (130, 80, 40),
    "white": (242, 242, 242),
    "black": (25, 25, 25),
    "gray": (128, 128, 128),
}
COLOUR_NAMES = list(COLOURS)
COLOUR_WORDS = {"gray": ["gray", "grey"], "purple": ["purple", "violet"]}

SHAPES = ["circle", "square", "triangle", "diamond"]
SHAPE_WORDS = {
    "circle": [("circle", "circles"), ("circle", "circles"), ("disc", "discs"), ("dot", "dots")],
    "square": [("square", "squares"), ("square", "squares"), ("box", "boxes")],
    "triangle": [("triangle", "triangles")],
    "diamond": [("diamond", "diamonds"), ("diamond", "diamonds"), ("rhombus", "rhombuses")],
}

SIZES = {"small": 0.075, "medium": 0.115, "large": 0.16}  # half-extent as a fraction of the canvas side
SIZE_WORDS = {"small": ["small", "tiny", "little"], "medium": ["", "", "medium", "medium-sized"], "large": ["large", "big", "huge"]}

# Nine anchors on a 3 × 3 grid (x, y as fractions of the canvas, y down); the checker splits at the midpoints.
ANCHOR_COORDS = (0.22, 0.5, 0.78)
POSITIONS = ["top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right"]
POSITION_XY = {p: (ANCHOR_COORDS[i % 3], ANCHOR_COORDS[i // 3]) for i, p in enumerate(POSITIONS)}
POSITION_JITTER = 0.03

_V = {"top": ["top", "upper"], "bottom": ["bottom", "lower"]}
POSITION_BARE = {
    "top-left": [f"{v} left" for v in _V["top"]] + ["top-left"],
    "top-right": [f"{v} right" for v in _V["top"]] + ["top-right"],
    "bottom-left": [f"{v} left" for v in _V["bottom"]] + ["bottom-left"],
    "bottom-right": [f"{v} right" for v in _V["bottom"]] + ["bottom-right"],
    "top": ["top", "top center", "top middle", "top centre"],
    "bottom": ["bottom", "bottom center", "bottom middle", "bottom centre"],
    "left": ["left", "middle left", "center left"],
    "right": ["right", "middle right", "center right"],
    "center": ["center", "middle", "centre"],
}


def position_phrase(rng: random.Random, pos: str) -> str:
    """A prepositional phrase: 'at the top left', 'in the upper left corner', 'on the left', 'in the middle'."""
    bare = rng.choice(POSITION_BARE[pos])
    if pos in ("top-left", "top-right", "bottom-left", "bottom-right"):
        return rng.choice([f"at the {bare}", f"in the {bare}", f"in the {bare} corner", f"at the {bare} corner"])
    if pos in ("left", "right"):
        return rng.choice([f"on the {bare}", f"at the {bare}", f"on the {bare} side", f"at the {bare} side"])
    if pos == "center":
        return rng.choice([f"in the {bare}", f"at the {bare}", "centered", "in the center of the image"])
    return rng.choice([f"at the {bare}", f"near the {bare}", f"along the {bare}"])


def background_phrase(rng: random.Random, bg: str) -> str:
    w = rng.choice(COLOUR_WORDS.get(bg, [bg]))
    return rng.choice([f"on a {w} background", f"on a {w} background", f"against a {w} background",
                       f"with a {w} background", f"on {w}", f"over a {w} backdrop", f"on a plain {w} background"])


@dataclass(frozen=True)
class Shape:
    kind: str
    colour: str
    position: str
    size: str


@dataclass(frozen=True)
class Scene:
    background: str
    shapes: tuple[Shape, ...]
    caption: str


def _article_fix(text: str) -> str:
    words = text.split()
    for i in range(len(words) - 1):
        if words[i] in ("a", "an"):
            words[i] = "an" if words[i + 1][0] in "aeiou" else "a"
    return " ".join(words)


def _noun_phrase(rng: random.Random, s: Shape, say_colour: bool, say_size: bool) -> str:
    size = rng.choice(SIZE_WORDS[s.size]) if say_size else ""
    colour = rng.choice(COLOUR_WORDS.get(s.colour, [s.colour])) if say_colour else ""
    noun = rng.choice(SHAPE_WORDS[s.kind])[0]
    return f"a {size} {colour} {noun}"


def single_caption(rng: random.Random, s: Shape, bg: str, *, say_colour=True, say_pos=True, say_bg=True,
                   say_size=True) -> str:
    np_ = _noun_phrase(rng, s, say_colour, say_size)
    pos = position_phrase(rng, s.position) if say_pos else ""
    bgp = background_phrase(rng, bg) if say_bg else ""
    bgw = rng.choice(COLOUR_WORDS.get(bg, [bg]))
    templates = [f"{np_} {pos} {bgp}", f"there is {np_} {pos} {bgp}", f"an image of {np_} {pos} {bgp}",
                 f"{np_} {bgp} {pos}"]
    if say_pos:
        templates.append(f"{pos}, {np_} {bgp}")
    if say_bg:
        templates.append(f"a {bgw} background with {np_} {pos}")
    if say_pos and say_bg:
        templates.append(f"{np_[2:]}, {rng.choice(POSITION_BARE[s.position])}, {bgw} background")
    text = rng.choice(templates).replace(" ,", ",")
    return _article_fix(" ".join(text.split()))


COUNT_WORDS = {1: ["one", "a single"], 2: ["two"], 3: ["three"], 4: ["four"]}
# Where a count's shapes go (issue 21): one fixed layout per count, so "three green dots" is one picture to learn
# rather than any 3 of the 9 anchors. Before, positions were drawn among the 9 anchors for counts and for captions
# without a position, so Stage C's estimate of x0 at high noise was the average over all anchors and CFG amplified
# every one of them: the 3×3 grids of the issue.
COUNT_LAYOUT = {1: ("center",), 2: ("left", "right"), 3: ("left", "center", "right"),
                4: ("top-left", "top-right", "bottom-left", "bottom-right")}
UNPLACED = "center"  # a single shape whose caption names no position is drawn here (one shape, never a grid)
PAIR_LAYOUT = ("left", "right")  # two shapes whose caption names no positions


def count_caption(rng: random.Random, count: int, kind: str, colour: str, bg: str) -> str:
    plural = rng.choice(SHAPE_WORDS[kind])[0 if count == 1 else 1]
    cw = rng.choice(COLOUR_WORDS.get(colour, [colour]))
    return _article_fix(" ".join(f"{rng.choice(COUNT_WORDS[count])} {cw} {plural} {background_phrase(rng, bg)}".split()))


def two_caption(rng: random.Random, a: Shape, b: Shape, bg: str, say_pos: bool) -> str:
    pa = position_phrase(rng, a.position) if say_pos else ""
    pb = position_phrase(rng, b.position) if say_pos else ""
    text = f"{_noun_phrase(rng, a, True, False)} {pa} and {_noun_phrase(rng, b, True, False)} {pb} {background_phrase(rng, bg)}"
    return _article_fix(" ".join(text.split()))


def random_scene(rng: random.Random, excluded: frozenset[tuple] = frozenset()) -> Scene:
    """One training scene: mostly a single shape, sometimes two different shapes, a count of 1–4 equal ones, or a
    bare colour word (so that a negative prompt such as "blue" — `--no blue` — names something the model draws).
    `excluded` holds the held-out families' tuples (family_tuples) that training never shows."""
    while True:
        scene = _random_scene(rng)
        if scene_tuple(scene) not in excluded:
            return scene


def scene_tuple(scene: Scene) -> tuple:
    """The key that held-out families are excluded by: what a judge of the picture could tell apart."""
    s = scene.shapes
    if scene.caption.startswith(("one ", "a single ", "two ", "three ", "four ")) and len({x.kind for x in s}) == 1:
        return ("count", len(s), s[0].kind, s[0].colour, scene.background)
    if len(s) == 2:
        return ("two", s[0].kind, s[0].colour, s[0].position, s[1].kind, s[1].colour, s[1].position, scene.background)
    return (s[0].kind, s[0].colour, scene.background, s[0].position)


def _random_scene(rng: random.Random) -> Scene:
    bg = rng.choice(COLOUR_NAMES)
    others = [c for c in COLOUR_NAMES if c != bg]
    u = rng.random()
    if u < 0.03:  # a bare colour: "blue", "something blue", "a blue shape"
        s = Shape(rng.choice(SHAPES), rng.choice(others), UNPLACED, rng.choice(list(SIZES)))
        w = rng.choice(COLOUR_WORDS.get(s.colour, [s.colour]))
        return Scene(bg, (s,), rng.choice([w, w, f"something {w}", f"a {w} shape", f"{w} color", f"{w} colour"]))
    if u < 0.70:
        flags = {k: rng.random() > p for k, p in
                 (("say_colour", 0.08), ("say_pos", 0.15), ("say_bg", 0.12), ("say_size", 0.4))}
        pos = rng.choice(POSITIONS) if flags["say_pos"] else UNPLACED
        s = Shape(rng.choice(SHAPES), rng.choice(others), pos, rng.choice(list(SIZES)))
        return Scene(bg, (s,), single_caption(rng, s, bg, **flags))
    if u < 0.85:  # two different shapes, each with its own colour and (usually) position
        say_pos = rng.random() < 0.75
        positions = rng.sample(POSITIONS, 2) if say_pos else list(PAIR_LAYOUT)
        a = Shape(rng.choice(SHAPES), rng.choice(others), positions[0], rng.choice(list(SIZES)))
        b = Shape(rng.choice([k for k in SHAPES if k != a.kind]), rng.choice([c for c in others if c != a.colour]),
                  positions[1], rng.choice(list(SIZES)))
        return Scene(bg, (a, b), two_caption(rng, a, b, bg, say_pos))
    count = rng.choice([1, 2, 3, 4])
    kind, colour = rng.choice(SHAPES), rng.choice(others)
    size = "small" if count == 4 else rng.choice(["small", "medium"])
    shapes = tuple(Shape(kind, colour, p, size) for p in COUNT_LAYOUT[count])
    return Scene(bg, shapes, count_caption(rng, count, kind, colour, bg))


DEMO_TUPLE = ("circle", "red", "blue", "top-left")


def heldout_set(n: int = 200, seed: int = 7) -> list[dict]:
    """n single-shape prompts whose (shape, colour, background, position) never occur in training."""
    return _single_prompts(n, seed, {DEMO_TUPLE})


def training_set(n: int = 100, seed: int = 11) -> list[dict]:
    """n single-shape prompts of combinations that DO occur in training, in the held-out set's form: to choose
    sampler settings without looking at the held-out prompts (`bench/demo-quality.ts --prompts`)."""
    return _single_prompts(n, seed, set(excluded_tuples(heldout_set())))


def _single_prompts(n: int, seed: int, seen: set[tuple[str, str, str, str]]) -> list[dict]:
    """n prompts of distinct (shape, colour, background, position), none of them in `seen`, with their seeds."""
    rng = random.Random(seed)
    items = []
    while len(items) < n:
        kind, bg = rng.choice(SHAPES), rng.choice(COLOUR_NAMES)
        colour = rng.choice([c for c in COLOUR_NAMES if c != bg])
        pos, size = rng.choice(POSITIONS), rng.choice(list(SIZES))
        key = (kind, colour, bg, pos)
        if key in seen:
            continue
        seen.add(key)
        say_size = rng.random() < 0.5
        prompt = single_caption(rng, Shape(kind, colour, pos, size), bg, say_size=say_size)
        items.append({"prompt": prompt, "shape": kind, "colour": colour, "background": bg, "position": pos,
                      "size": size if say_size else None, "seed": rng.randrange(2**31)})
    return items


def excluded_tuples(heldout: list[dict]) -> frozenset[tuple[str, str, str, str]]:
    return frozenset((h["shape"], h["colour"], h["background"], h["position"]) for h in heldout)


def two_family(n: int = 100, seed: int = 21) -> list[dict]:
    """Two different shapes, one on the left and one on the right (either named first), each with its own colour."""
    rng, items, seen = random.Random(seed), [], set()
    while len(items) < n:
        bg = rng.choice(COLOUR_NAMES)
        ka, kb = rng.sample(SHAPES, 2)
        ca, cb = rng.sample([c for c in COLOUR_NAMES if c != bg], 2)
        a = Shape(ka, ca, rng.choice(["top-left", "left", "bottom-left"]), "medium")
        b = Shape(kb, cb, rng.choice(["top-right", "right", "bottom-right"]), "medium")
        first, second = (a, b) if rng.random() < 0.5 else (b, a)
        key = scene_tuple(Scene(bg, (first, second), ""))
        if key in seen:
            continue
        seen.add(key)
        items.append({"prompt": two_caption(rng, first, second, bg, True), "background": bg,
                      "shapes": [{"shape": s.kind, "colour": s.colour, "position": s.position,
                                  "side": "left" if s is a else "right"} for s in (first, second)],
                      "seed": rng.randrange(2**31)})
    return items


def count_family(n: int = 100, seed: int = 22) -> list[dict]:
    """'three green dots on white': counts 1–4 in turn, each (count, shape, colour, background) distinct."""
    rng, items, seen = random.Random(seed), [], set()
    while len(items) < n:
        count = 1 + len(items) % 4
        bg = rng.choice(COLOUR_NAMES)
        kind, colour = rng.choice(SHAPES), rng.choice([c for c in COLOUR_NAMES if c != bg])
        key = ("count", count, kind, colour, bg)
        if key in seen:
            continue
        seen.add(key)
        items.append({"prompt": count_caption(rng, count, kind, colour, bg), "count": count, "shape": kind,
                      "colour": colour, "background": bg, "seed": rng.randrange(2**31)})
    return items


def unplaced_family(n: int = 100, seed: int = 23) -> list[dict]:
    """One shape and no position in the prompt ('a blue circle on white'): the picture should hold exactly one."""
    rng, items, seen = random.Random(seed), [], set()
    while len(items) < n:
        bg = rng.choice(COLOUR_NAMES)
        kind, colour = rng.choice(SHAPES), rng.choice([c for c in COLOUR_NAMES if c != bg])
        if (kind, colour, bg) in seen:
            continue
        seen.add((kind, colour, bg))
        s = Shape(kind, colour, UNPLACED, rng.choice(list(SIZES)))
        items.append({"prompt": single_caption(rng, s, bg, say_pos=False, say_size=rng.random() < 0.5),
                      "count": 1, "shape": kind, "colour": colour, "background": bg, "seed": rng.randrange(2**31)})
    return items


def all_excluded() -> frozenset[tuple]:
    """Every held-out tuple (single prompts and the families): training never shows these combinations."""
    keys = set(excluded_tuples(heldout_set()))
    for t in two_family():
        a, b = (Shape(s["shape"], s["colour"], s["position"], "medium") for s in t["shapes"])
        keys.add(scene_tuple(Scene(t["background"], (a, b), "")))
        keys.add(scene_tuple(Scene(t["background"], (b, a), "")))
    keys.update(("count", c["count"], c["shape"], c["colour"], c["background"]) for c in count_family())
    keys.update((u["shape"], u["colour"], u["background"], UNPLACED) for u in unplaced_family())
    return frozenset(keys)


def vocabulary(captions: list[str]) -> list[str]:
    """The words of the training captions (lower case, letters and hyphens): the manifest's known vocabulary."""
    import re
    return sorted({w for c in captions for w in re.findall(r"[a-z]+(?:-[a-z]+)*", c.lower())})


def prompt_document(training: bool = False) -> dict:
    """The held-out prompt document (models/demo/heldout-prompts.json), or with `training` the same form for prompts
    of training combinations."""
    doc = {
        "about": ("Prompts of combinations seen in training (tools/train-demo/dataset.py --training-prompts), for "
                  "choosing sampler settings without the held-out set." if training else
                  "Held-out prompts of the demo model (tools/train-demo/dataset.py). Their (shape, colour, background, "
                  "position) combinations never occur in training; nor do the families' (two shapes with their "
                  "positions, count + shape + colour + background, unplaced shape + colour + background).")
                 + " Geometry is in fractions of the canvas, y down; sizes are fractions of the shorter side.",
        "palette": {k: list(v) for k, v in COLOURS.items()},
        "shapes": SHAPES,
        "positions": {p: list(xy) for p, xy in POSITION_XY.items()},
        "sizes": SIZES,
        "prompts": training_set() if training else heldout_set(),
    }
    if not training:
        doc["families"] = {"two": two_family(), "count": count_family(), "unplaced": unplaced_family()}
    return doc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--heldout", help="write the held-out prompt document (JSON) here")
    ap.add_argument("--training-prompts", help="write 100 prompts of training combinations here (same format)")
    ap.add_argument("--samples", type=int, default=0, help="print this many training captions")
    args = ap.parse_args()
    for path, training in ((args.heldout, False), (args.training_prompts, True)):
        if path:
            with open(path, "w") as f:
                json.dump(prompt_document(training), f, indent=1)
                f.write("\n")
    rng = random.Random(0)
    excl = all_excluded()
    for _ in range(args.samples):
        print(random_scene(rng, excl).caption)


if __name__ == "__main__":
    main()

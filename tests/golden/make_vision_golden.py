#!/usr/bin/env python3
"""torchvision's ImageFolder and tensor transforms as the reference for Kiln.Vision and Kiln.Data.Transforms.

Run with Debian's python3-torch and python3-torchvision:  /usr/bin/python3 tests/golden/make_vision_golden.py
Writes a tiny image folder (PNG, JPEG, BMP; drawn here from a seed, so no third-party images) under
tests/golden/data/images/ and what torchvision reads from it and computes with it into tests/golden/data/vision.json.
"""
import json, os, shutil
import numpy as np
import torch
import torchvision
from torchvision import transforms as T
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "data", "images")
OUT = os.path.join(HERE, "data", "vision.json")
rng = np.random.default_rng(15)

shutil.rmtree(ROOT, ignore_errors=True)
files = {"cat": [("a.png", "RGB", (5, 7)), ("b.bmp", "RGB", (4, 3))],
         "dog": [("c.jpg", "RGB", (8, 8)), ("nested/d.png", "RGBA", (3, 6))],
         "emu": [("e.png", "L", (6, 4))]}
for cls, items in files.items():
    for name, mode, (h, w) in items:
        path = os.path.join(ROOT, cls, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
        pixels = rng.integers(0, 256, size=(h, w, channels), dtype=np.uint8)
        if channels == 1: pixels = pixels[:, :, 0]
        if name.endswith(".jpg"):
            pixels = np.full((h, w, 3), 0, dtype=np.uint8); pixels[:, :, 0] = np.arange(w) * 30; pixels[:, :, 1] = (np.arange(h) * 25)[:, None]; pixels[:, :, 2] = 90
        Image.fromarray(pixels, mode).save(path, quality=95) if name.endswith(".jpg") else Image.fromarray(pixels, mode).save(path)
with open(os.path.join(ROOT, "cat", "notes.txt"), "w") as f:
    f.write("not an image: ImageFolder skips it\n")


def enc(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


ds = torchvision.datasets.ImageFolder(ROOT, transform=T.ToTensor())
folder = {"classes": ds.classes,
          "samples": [[os.path.relpath(p, ROOT).replace(os.sep, "/"), l] for p, l in ds.samples],
          "images": [enc(ds[i][0]) for i in range(len(ds))]}

torch.manual_seed(15)
img = torch.rand(3, 5, 7)
transforms = {
    "input": enc(img),
    "resize_short_4": enc(T.Resize(4)(img)),
    "resize_3x5": enc(T.Resize((3, 5))(img)),
    "center_crop_3x4": enc(T.CenterCrop((3, 4))(img)),
    "center_crop_pad_6x9": enc(T.CenterCrop((6, 9))(img)),
    "normalize": enc(T.Normalize([0.5, 0.4, 0.3], [0.2, 0.25, 0.3])(img)),
}
with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__, "folder": folder, "transforms": transforms}, f, indent=None)
print(f"wrote {len(ds)} images in {len(ds.classes)} classes and {len(transforms) - 1} transforms to {OUT}")

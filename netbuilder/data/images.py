"""An image folder: one subfolder per class, every image resized to the model's Input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from netbuilder.data.dataset import DataError, Dataset

# A damaged or hostile header can declare a huge image in a few bytes; decoding one costs 3 bytes a
# pixel. PIL only warns from 89 million pixels and refuses from twice that; here it is refused from
# the first (a 9,000 × 9,000 photo, 240 MB decoded, far more than a training image needs).
MAX_PIXELS = 89_478_485

SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def load_image_folder(path: str | Path, shape: tuple[int, ...] = (3, 32, 32)) -> Dataset:
    """Read ``path/<class>/<image>``; images become ``shape`` = [C, H, W] with C 1 (grey) or 3 (RGB)."""
    from PIL import Image, UnidentifiedImageError

    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder; an image data set is a folder with one subfolder per class")
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise DataError(f"images need an Input of shape [1 or 3, H, W]; the model's Input is {list(shape)}")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DataError(f"{root}: no subfolders; put each class's images in its own subfolder (e.g. cats/, dogs/)")
    channels, height, width = shape
    images, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(f for f in (root / name).iterdir() if f.suffix.lower() in SUFFIXES)
        if not files:
            raise DataError(f"{root / name}: no images in this class folder (looked for {', '.join(sorted(SUFFIXES))})")
        for file in files:
            try:
                with Image.open(file) as img:  # reads the header only: the pixels are decoded by convert()
                    if img.width * img.height > MAX_PIXELS:
                        raise DataError(f"{file}: the image is too large to read ({img.width} × {img.height} "
                                        f"pixels, more than {MAX_PIXELS:,}); remove it or save it smaller")
                    img = img.convert("L" if channels == 1 else "RGB").resize((width, height), Image.BILINEAR)
                    array = np.asarray(img, dtype=np.float32) / 255.0
            except (UnidentifiedImageError, OSError, SyntaxError) as exc:  # PIL's "broken PNG file" is a SyntaxError
                raise DataError(f"{file}: not a readable image ({exc}); remove or replace it") from None
            except Image.DecompressionBombError as exc:  # a small file declaring billions of pixels
                raise DataError(f"{file}: the image is too large to read ({exc}); remove it or save it "
                                "smaller") from None
            images.append(array[None] if channels == 1 else array.transpose(2, 0, 1))
            labels.append(label)
    x = torch.from_numpy(np.stack(images))
    return Dataset(root.name, x, torch.tensor(labels), "classification", len(classes), classes,
                   f"{len(x)} images in {len(classes)} classes, resized to {height}×{width}")

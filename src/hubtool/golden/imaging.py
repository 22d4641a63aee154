"""Images -> model input tensors, exactly as a card's runtime code prepares them.

Order of operations (DESIGN.md section 7): decode to RGB (EXIF orientation
applied; RGBA, palette and greyscale converted), resize to the input size,
float32, multiply by `scale`, subtract `mean` and divide by `std` per channel,
reorder channels (RGB/BGR), lay out (NHWC/NCHW), add the batch dimension.
Each step matters: on the canary, BGR instead of RGB gives 11/20, [0, 1]
instead of 0..255 gives 2/20, NCHW fed to an NHWC model gives garbage.

Note: Pillow's bilinear filter widens its support when it shrinks an image
(antialiasing); a runtime's plain bilinear does not.  The two agree exactly
when no resize is needed (the golden sets here are already at input size).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ImageError, SpecialFile
from ..textdecode import open_regular

#: the largest height or width golden images are resized to (the golden schema's bound on preprocess.size)
MAX_SIDE = 8192
#: the most pixels an image may declare before it is decoded: a 48-megapixel photo fits, a PNG of a few bytes
#: that declares 100,000 x 100,000 (10 GB once decoded; Pillow's own check raises past 179 M) does not
MAX_PIXELS = 50_000_000

if TYPE_CHECKING:
    import numpy as np  # annotations only: numpy (~100 ms) loads where arrays are made
    from PIL.Image import Image


@dataclass(frozen=True)
class Preprocess:
    size: tuple[int, int] | None = None  # (height, width); None: the model's input size
    resize: str = "bilinear"
    scale: float = 1.0
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    channels: str = "RGB"
    layout: str = "NHWC"
    batch: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Preprocess:
        """From a golden set's `preprocess:` (validated by schemas/golden.schema.json) or a card's override."""
        names = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in names}
        for key in ("size", "mean", "std"):
            if key in kwargs and kwargs[key] is not None:
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)

    def merged(self, overrides: Mapping[str, object]) -> Preprocess:
        base = {f.name: getattr(self, f.name) for f in fields(self)}
        base.update(overrides)
        return Preprocess.from_dict(base)


@contextmanager
def opened_image(path: Path) -> Iterator[Image]:
    """A golden image opened by Pillow (decoded lazily, inside the block); ImageError for a special file, one that
    is no image Pillow reads, or declares more than MAX_PIXELS, or fails to decode inside the block."""
    from PIL import Image, UnidentifiedImageError

    try:
        with open_regular(path) as handle, Image.open(handle) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ImageError(f"golden image {path} is {img.width:,} x {img.height:,} pixels, more than the "
                                 f"{MAX_PIXELS:,} hubtool decodes")
            yield img
    except SpecialFile as exc:
        raise ImageError(f"golden image {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ImageError(f"cannot decode image {path}: not in an image format Pillow reads") from exc
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(f"cannot decode image {path}: {exc}") from exc


def load_rgb(path: Path) -> np.ndarray:
    """Decode any image Pillow reads to an HxWx3 uint8 RGB array."""
    import numpy as np
    from PIL import Image, ImageOps

    with opened_image(path) as img:
        img = ImageOps.exif_transpose(img)
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            img = img.convert("RGBA")
            background = Image.new("RGBA", img.size, (0, 0, 0, 255))
            img = Image.alpha_composite(background, img)  # transparent pixels become black
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def resize(rgb: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    if rgb.shape[:2] == tuple(size):
        return rgb
    import numpy as np
    from PIL import Image

    filters = {"bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST,
               "bicubic": Image.Resampling.BICUBIC}
    height, width = size
    return np.asarray(Image.fromarray(rgb).resize((width, height), filters[method]), dtype=np.uint8)


def to_tensor(rgb: np.ndarray, pre: Preprocess, size: tuple[int, int]) -> np.ndarray:
    """The model input for one decoded image."""
    import numpy as np

    x = resize(rgb, size, pre.resize).astype(np.float32)
    x *= np.float32(pre.scale)
    x -= np.asarray(pre.mean, dtype=np.float32)
    x /= np.asarray(pre.std, dtype=np.float32)
    if pre.channels == "BGR":
        x = x[..., ::-1]
    if pre.layout == "NCHW":
        x = np.transpose(x, (2, 0, 1))
    if pre.batch:
        x = x[None]
    return np.ascontiguousarray(x, dtype=np.float32)


def input_size(pre: Preprocess, model_shape: tuple[int, ...]) -> tuple[int, int] | str:
    """The (height, width) to resize to, or why the model's input does not fit this preprocessing."""
    dims = list(model_shape)
    if pre.batch:
        if len(dims) != 4 or dims[0] != 1:
            return f"the model input has shape {dims}, not a batch of one image ([1, ...], 4 dimensions)"
        dims = dims[1:]
    if len(dims) != 3:
        return f"the model input has shape {list(model_shape)}, not an image tensor"
    if pre.layout == "NHWC":
        if dims[2] != 3:
            hint = " (it looks NCHW: set layout: NCHW)" if dims[0] == 3 else ""
            return f"the model input {list(model_shape)} has {dims[2]} channels last, not 3{hint}"
        model_size = (dims[0], dims[1])
    else:
        if dims[0] != 3:
            hint = " (it looks NHWC: set layout: NHWC)" if dims[2] == 3 else ""
            return f"the model input {list(model_shape)} has {dims[0]} channels first, not 3{hint}"
        model_size = (dims[1], dims[2])
    if min(model_size) <= 0:  # a dynamic input (-1): the golden set says the size, or nothing can
        if pre.size is None:
            return f"the model input {list(model_shape)} has a dynamic size: give preprocess.size in golden.yaml"
        return pre.size
    if pre.size is not None and tuple(pre.size) != model_size:
        return (f"the preprocessing resizes to {list(pre.size)} but the model's input is "
                f"{list(model_size)} (height, width)")
    if max(model_size) > MAX_SIDE:  # a model file's own claim: resizing to it would take all the memory there is
        return f"the model input {list(model_shape)} is larger than golden images are resized to ({MAX_SIDE})"
    return model_size

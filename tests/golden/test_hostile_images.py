"""Golden images that lie about themselves: refused as ImageError before they are decoded, never an internal error."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from hubtool.errors import ImageError
from hubtool.golden.imaging import MAX_PIXELS, load_rgb, opened_image


def png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes of PNG whose header declares `width` x `height` RGB pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(1000)))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize(("width", "height", "said"), [
    (100_000, 100_000, "exceeds limit"),  # Pillow's own bomb check, at open: was an internal error
    (8_000, MAX_PIXELS // 8_000 + 1, "more than the 50,000,000 hubtool decodes"),  # under Pillow's, over ours
])
def test_an_image_declaring_too_many_pixels_is_refused_before_decoding(tmp_path: Path, width: int, height: int,
                                                                       said: str) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_declaring(width, height))
    with pytest.raises(ImageError, match=said):
        load_rgb(path)
    with pytest.raises(ImageError, match=said), opened_image(path):  # the catalog's thumbnails open it so
        pass


def test_a_truncated_image_fails_where_it_is_decoded(tmp_path: Path) -> None:
    whole = (Path(__file__).parents[2] / "hub" / "golden" / "cifar10" / "cifar10_00_3.png").read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ImageError, match="cannot decode image .*cut.png: image file is truncated"):
        load_rgb(path)


def test_a_file_that_is_no_image_says_so_in_words(tmp_path: Path) -> None:
    path = tmp_path / "page.png"
    path.write_bytes(b"<html>404</html>")
    with pytest.raises(ImageError, match="not in an image format Pillow reads"):
        load_rgb(path)

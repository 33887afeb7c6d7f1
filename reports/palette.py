"""The PNGs embedded in the report page, as palette images.

At most :data:`PAGE_COLOURS` colours, white background, no dithering: on line plots this keeps every
line and letter and makes the files about four times smaller than full colour.
"""
from __future__ import annotations

import io

PAGE_COLOURS = 64


def page_png(png: bytes, colours: int = PAGE_COLOURS) -> bytes:
    """``png`` as a palette PNG of at most ``colours`` colours (white background, no dithering)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    reduced = image.convert("RGB").quantize(colors=colours, method=Image.Quantize.FASTOCTREE,
                                            dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    reduced.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()

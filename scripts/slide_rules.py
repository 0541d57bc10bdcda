"""The slide rules, checked on a notebook's exported charts (run_notebooks.py --charts-check).

The crate checks each chart as it is exported (thinkdist::plot::check_slide_svg);
this checks the files that were written, so a chart saved some other way, or a
rule about several charts together, cannot slip through:

- every text at least MIN_TEXT_PX as drawn on a 1920x1200 slide (the SVG's
  font-size is the drawn size: plotters writes nominal/1.24);
- every PNG at a slide aspect (16:9 or 16:10: width/height 1.5 to 1.8);
- no two charts of one notebook with the same title (the largest text).
"""

from __future__ import annotations

import html
import re
import struct
from pathlib import Path

SLIDE = (1920, 1200)
MIN_TEXT_PX = 28.0
ASPECT = (1.5, 1.8)

_SVG_SIZE = re.compile(r'<svg[^>]*?\swidth="([0-9.]+)"[^>]*?\sheight="([0-9.]+)"')
_TEXT = re.compile(r'<text\b([^>]*)>(.*?)</text>', re.S)
_FONT = re.compile(r'\sfont-size="([0-9.eE+-]+)"')


def slide_scale(w: float, h: float) -> float:
    """How much a w x h chart is scaled to fit a 1920x1200 slide."""
    return min(SLIDE[0] / w, SLIDE[1] / h)


def svg_texts(svg: str) -> list[tuple[float, str]]:
    """(px as drawn on a slide, text) for every text of a chart SVG."""
    m = _SVG_SIZE.search(svg)
    if not m:
        raise ValueError("no <svg width=.. height=..>")
    scale = slide_scale(float(m.group(1)), float(m.group(2)))
    out = []
    for attrs, body in _TEXT.findall(svg):
        f = _FONT.search(attrs)
        if f:
            out.append((float(f.group(1)) * scale, html.unescape(body.strip())))
    return out


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", head[16:24])


def title_of(texts: list[tuple[float, str]]) -> str:
    """The chart's title: its largest text, if clearly larger than the rest
    (titles are 28 px nominal, axis labels 20): empty for an untitled chart."""
    sizes = sorted({round(px, 3) for px, _ in texts}, reverse=True)
    if not sizes or (len(sizes) > 1 and sizes[0] < 1.25 * sizes[1]):
        return ""
    return " ".join(t for px, t in texts if round(px, 3) == sizes[0])


def check_charts(files: list[Path]) -> list[str]:
    """Every broken slide rule among one notebook's exported chart files."""
    problems = []
    titles: dict[str, str] = {}
    for path in sorted(files):
        try:
            if path.suffix == ".svg":
                texts = svg_texts(path.read_text())
                small = [(px, t) for px, t in texts if px < MIN_TEXT_PX - 1e-9]
                if small:
                    px, t = min(small)
                    problems.append(f"{path.name}: {len(small)} texts under {MIN_TEXT_PX:g} px "
                                    f"on a 1920x1200 slide, smallest {px:.1f} px: {t!r}")
                title = title_of(texts)
                if title and title in titles:
                    problems.append(f"{path.name}: same title as {titles[title]}: {title!r}")
                elif title:
                    titles[title] = path.name
            elif path.suffix == ".png":
                w, h = png_size(path)
                if not ASPECT[0] <= w / h <= ASPECT[1]:
                    problems.append(f"{path.name}: {w}x{h} (aspect {w / h:.2f}) is not 16:9 "
                                    f"or 16:10 (width/height {ASPECT[0]} to {ASPECT[1]})")
        except (OSError, ValueError) as e:
            problems.append(f"{path.name}: unreadable chart file: {e}")
    return problems

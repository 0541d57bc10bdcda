#!/usr/bin/env python3
"""Build a lecture deck from a chapter notebook: one slide per exported chart.

    python3 scripts/build_deck.py notebooks/02-distributed-systems-at-a-glance.ipynb [...]
        [--charts charts] [--out decks]

For each notebook NN-title.ipynb it writes decks/NN-title.html: a title slide
from the notebook's first heading, then, for every chart the notebook keeps
(charts.keep("name", ...) in a cell tagged `chart`) and exported to
charts/NN-title/name.png, a slide with the chart and its "what to see" words
(see `words_for`).

The deck is one self-contained HTML file: the PNGs are embedded, the style
and the few lines of script are inline, nothing is loaded from the network,
so it works offline in a lecture hall. Keys: right/left arrow, space, page
up/down, Home/End; F for full screen. Printing it (Ctrl-P, landscape) gives
one slide per page, i.e. a PDF handout.

Run the notebooks first (scripts/run_all.sh does both): a chart that was not
exported is left out and named on stderr.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KEEP = re.compile(r'charts\s*\.\s*(?:try_)?keep\(\s*"([^"]+)"')


@dataclass
class Slide:
    """One chart slide: the chart's name, PNG path and words (markdown)."""
    name: str
    png: Path
    words: str


def text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_chart(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and "chart" in cell.get("metadata", {}).get("tags", [])


def title_of(nb: dict, fallback: str) -> str:
    """The notebook's first markdown heading, without the #s."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in text(cell).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


WHAT_TO_SEE = "**What to see"


def words_for(cells: list[dict], i: int) -> str:
    """The words of chart cell `i`'s slide: the markdown after it.

    Before the next chart cell or heading: the first markdown cell that
    starts with "**What to see", else the first markdown cell. With none
    there (charts in a row, or a chart, a code cell and another chart,
    all explained by one cell after them): the next "**What to see" cell,
    looking past chart and code cells but not past a heading (a new
    section). Otherwise no words.
    """
    after = cells[i + 1:]
    before_next = []
    for cell in after:
        if is_chart(cell):
            break
        if cell.get("cell_type") == "markdown":
            words = text(cell).strip()
            if words.startswith("#"):
                break
            before_next.append(words)
    for words in before_next:
        if words.startswith(WHAT_TO_SEE):
            return words
    if before_next:
        return before_next[0]
    for cell in after:
        if cell.get("cell_type") != "markdown":
            continue
        words = text(cell).strip()
        if words.startswith(WHAT_TO_SEE):
            return words
        if words.startswith("#"):
            break
    return ""


def slides_of(nb: dict, charts_dir: Path) -> tuple[list[Slide], list[str]]:
    """The chart slides of a notebook, and the kept charts with no PNG."""
    cells = nb.get("cells", [])
    slides, missing = [], []
    for i, cell in enumerate(cells):
        if not is_chart(cell):
            continue
        words = words_for(cells, i)
        for name in KEEP.findall(text(cell)):
            png = charts_dir / f"{name}.png"
            if png.is_file():
                slides.append(Slide(name, png, words))
            else:
                missing.append(name)
    return slides, missing


def inline(s: str) -> str:
    """Inline markdown (code, bold, italics) on escaped text."""
    s = html.escape(s, quote=False)
    s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
    s = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)
    s = re.sub(r"(?<![*\w])\*([^*\s][^*]*)\*(?!\w)", r"<em>\1</em>", s)
    return s


def markdown_html(md: str) -> str:
    """The little markdown a "what to see" cell uses: paragraphs and lists."""
    out, para, items = [], [], []

    def flush():
        if para:
            out.append("<p>" + inline(" ".join(para)) + "</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{inline(x)}</li>" for x in items) + "</ul>")
            items.clear()

    for line in md.splitlines():
        stripped = line.strip()
        m = re.match(r"^[-*] +(.*)", stripped)
        if not stripped:
            flush()
        elif m:
            if para:
                flush()
            items.append(m.group(1))
        elif items and line.startswith(" "):
            items[-1] += " " + stripped
        else:
            if items:
                flush()
            para.append(stripped.lstrip("#").strip() if stripped.startswith("#") else stripped)
    flush()
    return "\n".join(out)


STYLE = """
html,body{margin:0;height:100%;background:#222;font-family:'DejaVu Sans',sans-serif}
section{display:none;box-sizing:border-box;width:100vw;height:100vh;background:#fff;
 padding:2vh 3vw;flex-direction:column;align-items:center;justify-content:center}
section.on{display:flex}
section.title h1{font-size:6vh;text-align:center;color:#282828}
section.title p{font-size:3vh;color:#555}
section img{max-width:100%;max-height:72vh;object-fit:contain}
section .words{font-size:2.6vh;line-height:1.35;color:#282828;max-width:92vw;overflow:auto}
section .words p{margin:.5vh 0}
code{font-family:'DejaVu Sans Mono',monospace;font-size:92%}
.num{position:fixed;right:1.5vw;bottom:1vh;font-size:1.8vh;color:#888}
@media print{@page{size:landscape;margin:0}body{background:#fff}
 section{display:flex;page-break-after:always;height:100vh}.num{display:none}}
"""

SCRIPT = """
var s=document.querySelectorAll('section'),i=0,n=document.querySelector('.num');
function go(k){i=Math.max(0,Math.min(s.length-1,k));
 s.forEach(function(e,j){e.classList.toggle('on',j==i)});n.textContent=(i+1)+' / '+s.length;
 history.replaceState(null,'','#'+(i+1));}
document.addEventListener('keydown',function(e){
 if(['ArrowRight','ArrowDown','PageDown',' '].indexOf(e.key)>=0)go(i+1);
 else if(['ArrowLeft','ArrowUp','PageUp','Backspace'].indexOf(e.key)>=0)go(i-1);
 else if(e.key=='Home')go(0);else if(e.key=='End')go(s.length-1);
 else if(e.key=='f'&&document.documentElement.requestFullscreen)document.documentElement.requestFullscreen();
 else return;e.preventDefault();});
document.addEventListener('click',function(e){go(e.clientX>innerWidth/3?i+1:i-1)});
go((parseInt(location.hash.slice(1))||1)-1);
"""


def deck_html(title: str, source: str, slides: list[Slide]) -> str:
    parts = [f'<section class="title"><h1>{html.escape(title)}</h1>'
             f"<p>{html.escape(source)}: {len(slides)} charts</p></section>"]
    for s in slides:
        b64 = base64.b64encode(s.png.read_bytes()).decode("ascii")
        parts.append(f'<section class="chart" data-chart="{html.escape(s.name)}">'
                     f'<img alt="{html.escape(s.name)}" src="data:image/png;base64,{b64}">'
                     f'<div class="words">{markdown_html(s.words)}</div></section>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(parts)
            + f'\n<div class="num"></div><script>{SCRIPT}</script></body></html>\n')


def build(notebook: Path, charts_root: Path, out: Path) -> tuple[Path, int, list[str]]:
    """Write out/<stem>.html; return its path, the slide count, missing charts."""
    nb = json.loads(notebook.read_text())
    slides, missing = slides_of(nb, charts_root / notebook.stem)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{notebook.stem}.html"
    path.write_text(deck_html(title_of(nb, notebook.stem), notebook.name, slides))
    return path, len(slides), missing


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebooks", nargs="*", type=Path,
                   help="notebooks (default: notebooks/NN-*.ipynb)")
    p.add_argument("--charts", type=Path, default=REPO / "charts",
                   help="where the notebooks exported their charts (default charts/)")
    p.add_argument("--out", type=Path, default=REPO / "decks", help="default decks/")
    args = p.parse_args(argv)
    paths = args.notebooks or sorted((REPO / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    rc = 0
    for nb in paths:
        path, n, missing = build(nb, args.charts, args.out)
        print(f"{path}: {n} chart slides")
        if missing:
            print(f"  not exported (run the notebook first): {', '.join(missing)}", file=sys.stderr)
        if n == 0:
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())

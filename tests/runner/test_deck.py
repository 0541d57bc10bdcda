"""The deck builder (scripts/build_deck.py) on a small fixture notebook:
one slide per exported chart, with the words of the markdown after its cell."""

from __future__ import annotations

import re
import sys
import tempfile
import unittest
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import build_deck  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def chart(src: str):
    cell = new_code_cell(src)
    cell.metadata["tags"] = ["chart"]
    return cell


class DeckTest(unittest.TestCase):
    def test_one_slide_per_chart_with_its_words(self):
        nb = new_notebook(cells=[
            new_code_cell(":dep thinkdist"),
            new_markdown_cell("# Chapter 9: Consensus\n\nIntro."),
            chart('charts.keep("first", &a)'),
            new_code_cell("table"),
            new_markdown_cell("**What to see.** The `first` curve *bends*.\n\n- one\n- two"),
            chart('charts.keep("second", &b);\ncharts.keep("third", &c)'),
            chart('charts.keep("never-exported", &d)'),
            new_markdown_cell("Words of the last."),
        ])
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            path = tmp / "09-consensus.ipynb"
            nbformat.write(nb, path)
            charts = tmp / "charts" / "09-consensus"
            charts.mkdir(parents=True)
            for name in ["first", "second", "third"]:
                (charts / f"{name}.png").write_bytes(PNG + name.encode())
            deck, n, missing = build_deck.build(path, tmp / "charts", tmp / "decks")
            self.assertEqual(deck, tmp / "decks" / "09-consensus.html")
            self.assertEqual(n, 3)
            self.assertEqual(missing, ["never-exported"])
            page = deck.read_text()
        sections = re.findall(r"<section ([^>]*)>(.*?)</section>", page, re.S)
        self.assertEqual(len(sections), 4)  # title + 3 charts
        self.assertIn("<h1>Chapter 9: Consensus</h1>", sections[0][1])
        names = [re.search(r'data-chart="([^"]+)"', a).group(1) for a, _ in sections[1:]]
        self.assertEqual(names, ["first", "second", "third"])
        first = sections[1][1]
        self.assertIn("<strong>What to see.</strong> The <code>first</code> curve <em>bends</em>.",
                      first)
        self.assertIn("<li>one</li><li>two</li>", first)
        import base64
        self.assertIn(base64.b64encode(PNG + b"first").decode(), first)
        # "second" is followed by a chart cell: no words. Nothing is remote.
        self.assertNotIn("What to see", sections[2][1])
        self.assertEqual(sections[2][1].count("<p>"), 0)
        self.assertNotRegex(page, r'(src|href)="https?:')

    def test_words_after_a_code_cell_or_another_chart(self):
        md = new_markdown_cell
        nb = new_notebook(cells=[
            new_markdown_cell("## Experiment 1"),
            chart('charts.keep("a", &a)'),
            chart('charts.keep("b", &b)'),
            md("**What to see.** Both a and b."),
            chart('charts.keep("c", &c)'),
            new_code_cell("let more = run()?;"),
            chart('charts.keep("d", &d)'),
            md("**What to see.** Both c and d."),
            chart('charts.keep("e", &e)'),
            md("The same run, another view:"),
            md("**What to see.** The words of e."),
            chart('charts.keep("f", &f)'),
            new_code_cell("table"),
            md("**What to see.** After a code cell."),
            chart('charts.keep("g", &g)'),
            chart('charts.keep("h", &h)'),
            md("## Experiment 2: a new section"),
            md("**What to see.** Not g's or h's."),
        ])
        cells = nb.cells
        words = {build_deck.KEEP.findall(build_deck.text(c))[0]: build_deck.words_for(cells, i)
                 for i, c in enumerate(cells) if build_deck.is_chart(c)}
        self.assertEqual(words["a"], "**What to see.** Both a and b.")
        self.assertEqual(words["b"], "**What to see.** Both a and b.")
        self.assertEqual(words["c"], "**What to see.** Both c and d.")
        self.assertEqual(words["d"], "**What to see.** Both c and d.")
        self.assertEqual(words["e"], "**What to see.** The words of e.")
        self.assertEqual(words["f"], "**What to see.** After a code cell.")
        # A heading starts another section: its words are not g's or h's.
        self.assertEqual(words["g"], "")
        self.assertEqual(words["h"], "")


if __name__ == "__main__":
    unittest.main()

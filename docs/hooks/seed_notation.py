"""mkdocs hook: the seed's notation and plain doctests read right on the site.

fastnn's docstrings and pages write layer indices as the seed does, W^[k], x̄^[k-1], φ^[K].
To Markdown, ``ψ^[k](W^[k] x̄ …)`` is a link and ``[0.1, 0.05]`` a reference, so this hook adds
one Markdown extension (to the pages and to mkdocstrings' docstrings alike) that
- renders ``^[...]`` outside code as a superscript, ``W<sup>[k]</sup>``;
- wraps a run of ``>>>`` lines (and their output) outside a fence in a ``pycon`` code block,
  as an Examples section would be.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.preprocessors import Preprocessor
from markdown.util import AtomicString

SUPERSCRIPT = r"\^\[([^\]\s`]{1,12})\]"  # ^[k], ^[K], ^[k-1], ^[1..K-1]
FENCE = re.compile(r"^\s*(```|~~~)")


class _Superscript(InlineProcessor):
    def handleMatch(self, m, data):
        el = etree.Element("sup")
        el.text = AtomicString(f"[{m.group(1)}]")
        return el, m.start(0), m.end(0)


class _Doctests(Preprocessor):
    def run(self, lines):
        out, fenced, i = [], False, 0
        while i < len(lines):
            line = lines[i]
            if FENCE.match(line):
                fenced = not fenced
            if fenced or not line.lstrip().startswith(">>>"):
                out.append(line)
                i += 1
                continue
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i].removeprefix(indent))
                i += 1
            out += ["", f"{indent}```pycon", *(indent + b for b in block), f"{indent}```", ""]
        return out


class SeedNotation(Extension):
    def extendMarkdown(self, md):
        # after code spans (190) and escapes (180), before references (170) and links (160)
        md.inlinePatterns.register(_Superscript(SUPERSCRIPT, md), "seed_superscript", 175)
        # before the fenced-code preprocessors (superfences: 32)
        md.preprocessors.register(_Doctests(md), "seed_doctests", 40)


def on_config(config):
    config.markdown_extensions.append(SeedNotation())
    return config

"""Every code example the documentation shows runs, so none rots.

- Each ```python block of README.md and docs/**/*.md runs: a page's blocks in order, in one
  namespace, in a fresh working directory (so files the examples write go nowhere else).
  Blocks meant to be read only use another language (```bash, ```console, ```text).
- The docstring examples (``>>>``) of every module the API reference pages show
  (``::: fastnn.x`` in docs/reference/*.md) pass as doctests.

A page whose examples need an optional extra that is not installed (torch, onnx, dask, ...)
is skipped, naming the module, as the other tests skip their comparisons.
"""
from __future__ import annotations

import doctest
import importlib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
RUN = {"python", "py", "python3"}  # fence languages that run
OPTIONAL = {"torch", "onnx", "onnxruntime", "sklearn", "pandas", "matplotlib", "dask", "distributed",
            "dask_ml", "joblib", "skl2onnx"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")
DIRECTIVE = re.compile(r"^:::[ \t]+([\w.]+)", re.MULTILINE)
# scikit-learn's warning when max_iter ends a fit: the examples train a few epochs on purpose
pytestmark = pytest.mark.filterwarnings("ignore:Stochastic Optimizer. Maximum iterations")


def code_blocks(text):
    """[(first line number, source)] of the fenced blocks whose language runs, in page order."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        lang = m["info"].split()[0].lower() if m["info"].split() else ""
        start, body, i = i + 2, [], i + 1
        while i < len(lines):
            close = FENCE.match(lines[i])
            if (close and close["fence"][0] == fence[0] and len(close["fence"]) >= len(fence)
                    and not close["info"].strip()):
                break
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        else:
            raise AssertionError(f"unclosed {fence} fence opened on line {start - 1}")
        i += 1
        if lang in RUN:
            blocks.append((start, "\n".join(body) + "\n"))
    return blocks


def _rel(path):
    return str(path.relative_to(ROOT))


PAGES_WITH_CODE = [p for p in PAGES if code_blocks(p.read_text(encoding="utf-8"))]


@pytest.fixture
def fresh_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")  # History.plot() draws off screen
    yield tmp_path
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


def _skip_if_optional(e, where):
    root = (e.name or "").split(".")[0]
    if root in OPTIONAL:
        pytest.skip(f"{where} needs {root}, which is not installed")
    raise e


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=_rel)
def test_page_examples_run(page, fresh_dir):
    namespace = {"__name__": "__main__"}
    for line, source in code_blocks(page.read_text(encoding="utf-8")):
        where = f"{_rel(page)}:{line}"
        try:  # padded, so a traceback gives the line number in the page
            exec(compile("\n" * (line - 1) + source, _rel(page), "exec"), namespace)
        except ModuleNotFoundError as e:
            _skip_if_optional(e, where)


REFERENCE = sorted((ROOT / "docs" / "reference").glob("*.md"))


def _module_of(name):
    """The module that defines ``name`` (a module, or an object such as fastnn.Network)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name != name:
            raise
    parent, _, attr = name.rpartition(".")
    obj = getattr(importlib.import_module(parent), attr)
    return importlib.import_module(obj.__module__)


def test_reference_pages_render_objects():
    for page in REFERENCE:
        assert DIRECTIVE.search(page.read_text(encoding="utf-8")), f"{_rel(page)} renders nothing"


@pytest.mark.parametrize("page", REFERENCE, ids=_rel)
def test_reference_docstring_examples(page, fresh_dir):
    """The >>> examples of every module whose objects the page renders (::: fastnn.x)."""
    names = DIRECTIVE.findall(page.read_text(encoding="utf-8"))
    modules = {}
    for name in names:
        try:
            module = _module_of(name)
        except ModuleNotFoundError as e:
            _skip_if_optional(e, f"{_rel(page)} ({name})")
        modules[module.__name__] = module
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for module in modules.values():
        for test in doctest.DocTestFinder().find(module):
            runner.run(test, out=report.append)
    if runner.failures:
        text = "".join(report)
        missing = re.search(r"ModuleNotFoundError: No module named '(\w+)", text)
        if missing and missing[1] in OPTIONAL:
            pytest.skip(f"{_rel(page)}'s examples need {missing[1]}, which is not installed")
        pytest.fail(text)


def test_fences_parse():
    """The block finder itself: languages, nesting in admonitions, longer fences."""
    text = (
        "```python\na = 1\n```\n"
        "```bash\necho no\n```\n"
        "!!! note\n    ```python\n    b = a + 1\n    ```\n"
        "````python\n```\n````\n"
        "~~~py\nc = 3\n~~~\n"
    )
    assert [src for _, src in code_blocks(text)] == ["a = 1\n", "b = a + 1\n", "```\n", "c = 3\n"]
    assert [line for line, _ in code_blocks(text)] == [2, 9, 12, 15]


def test_readme_links_resolve():
    """The README is read on GitHub and in a checkout, outside the site's link check: its
    relative links must name files that exist (and their #anchors headings that exist)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links, "the README should link into the documentation"
    for link in links:
        if re.match(r"[a-z]+://", link):
            continue
        path, _, anchor = link.partition("#")
        target = ROOT / path
        assert target.exists(), f"README links to {link}, which does not exist"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", target.read_text(encoding="utf-8"), re.MULTILINE)
            slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
            assert anchor in slugs, f"README links to {link}, but {path} has no such heading"

"""The documentation: its Python code blocks run, and `mkdocs build --strict` passes.

The blocks of a page run in order in one namespace, in a temporary directory. A block right
after a line `<!-- skip -->` is shown but not run (for long trainings).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"(<!-- skip -->\s*\n)?^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """(line number, code) of each Python block of `page` not marked to be skipped."""
    text = page.read_text()
    return [
        (text.count("\n", 0, m.start(2)) + 1, m.group(2))
        for m in BLOCK.finditer(text)
        if m.group(1) is None
    ]


def test_skip_marker_and_line_numbers(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("a\n```python\nx = 1\n```\n<!-- skip -->\n```python\nlong()\n```\n")
    assert python_blocks(page) == [(3, "x = 1\n")]


PAGES = sorted(DOCS.glob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_code_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{page.stem}"}
    for line, code in python_blocks(page):
        try:
            exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
        except Exception as e:
            raise AssertionError(f"{page.name}, block at line {line}: {e!r}") from e


def test_mkdocs_build_strict(tmp_path):
    for package in ("mkdocs", "material", "mkdocstrings"):  # pip install -e ".[docs]"
        pytest.importorskip(package)
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert build.returncode == 0, build.stderr[-3000:]
    assert (tmp_path / "api" / "index.html").is_file()


def test_every_public_name_documents_each_of_its_arguments():
    """help(pinn.X) names every argument of every class and function users import."""
    import inspect

    import pinn

    undocumented = {}
    for name in pinn.__all__:
        obj = getattr(pinn, name)
        if inspect.ismodule(obj):
            continue
        doc = inspect.getdoc(obj) or ""
        params = [p for p in inspect.signature(obj).parameters if p != "self"]
        missing = [p for p in params if p not in doc]
        if missing or not doc.strip():
            undocumented[name] = missing
    assert not undocumented, undocumented

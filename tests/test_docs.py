"""The README stays short and the docs build strictly: every page in the nav, every link resolving."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_the_readme_is_at_most_300_lines_and_links_only_to_docs_that_exist() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    links = re.findall(r"\]\((docs/[^)#]+)", text)
    assert len(links) >= 10
    assert all((ROOT / link).is_file() for link in links), [link for link in links if not (ROOT / link).is_file()]


def test_every_docs_page_is_in_the_mkdocs_nav() -> None:
    nav = set(re.findall(r":\s*(\S+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M))
    pages = {path.name for path in (ROOT / "docs").glob("*.md")}
    assert pages == nav, pages ^ nav


def test_the_docs_build_with_mkdocs_strict(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "site" / "proxy" / "index.html").is_file()


def _layout_map() -> str:
    text = (ROOT / "docs" / "layout.md").read_text()
    return re.search(r"```\n(bench/\n.*?)```", text, re.S).group(1)  # type: ignore[union-attr]


def test_the_layout_map_names_every_module_under_its_package() -> None:
    """Each top-level module and package of bench/ starts a line of the map, and each module of a package is
    named (as a word) in that package's lines; nothing named in the map is missing from bench/."""
    block = _layout_map()
    entries: dict[str, str] = {}  # 'models/' or 'api.py' -> its text (continuation lines joined)
    current = ""
    for line in block.splitlines()[1:]:
        match = re.match(r"^  (\S.*?)\s{2,}(.*)$", line) or re.match(r"^  (\S+)\s*$", line)
        if match:
            current = match.group(1)
            entries[current] = match.group(0)
        elif line.startswith("    ") and current:
            entries[current] += " " + line.strip()
        else:
            current = ""
    bench = ROOT / "bench"
    top_modules = {p.name for p in bench.glob("*.py")}
    packages = {p.name + "/" for p in bench.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    named = {name for key in entries for name in re.split(r",\s*", key)}
    assert top_modules | packages <= named, sorted((top_modules | packages) - named)
    assert named <= top_modules | packages, sorted(named - (top_modules | packages))
    for package in packages:
        text = next(v for k, v in entries.items() if k == package)
        modules = {p.stem for p in (bench / package).glob("*.py")} - {"__init__"}
        missing = {m for m in modules if not re.search(rf"\b{re.escape(m)}\b", text)}
        assert not missing, f"docs/layout.md: {package} does not name {sorted(missing)}"


def test_bench_has_at_most_12_top_level_modules_besides_init_main_and_cli() -> None:
    modules = {p.name for p in (ROOT / "bench").glob("*.py")} - {"__init__.py", "__main__.py", "cli.py"}
    assert len(modules) <= 12, sorted(modules)

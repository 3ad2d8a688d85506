"""The static site (`make site`, course_utils/site.py): every notebook has a page, every link resolves.

The real course is built once into a temporary folder; a tiny synthetic course pins the builder's rules
(titles, previous/next, link rewriting) independently of which lessons exist yet.
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import nbformat.v4 as v4
import pytest

from course_utils import site

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "exercises", "solutions")
ALL_NOTEBOOKS = [p.relative_to(ROOT) for folder in FOLDERS for p in sorted((ROOT / folder).glob("*.ipynb"))]
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# A 1×1 transparent PNG, as a notebook stores a figure.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63000100000005000100"
        "0d0a2db40000000049454e44ae426082"
    )
).decode()


class _Links(HTMLParser):
    """Collects a page's link targets (href/src), element ids, nav bars and <title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.nav_links: list[list[tuple[str, str]]] = []
        self.title = ""
        self._in_nav = self._in_title = False
        self._anchor: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for key in ("id", "name"):
            if key in a and tag != "meta":
                self.ids.add(a[key])
        for key in ("href", "src"):
            if key in a:
                self.links.append(a[key])
        if tag == "nav" and "course-nav" in a.get("class", ""):
            self._in_nav = True
            self.nav_links.append([])
        if tag == "a" and self._in_nav:
            self._anchor = [a.get("href", ""), ""]
        self._in_title = tag == "title"

    def handle_data(self, data: str) -> None:
        if self._anchor is not None:
            self._anchor[1] += data
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._anchor is not None:
            self.nav_links[-1].append((self._anchor[0], self._anchor[1].strip()))
            self._anchor = None
        if tag == "nav":
            self._in_nav = False
        if tag == "title":
            self._in_title = False


def parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_links(out: Path) -> list[str]:
    """Every relative href/src of every page that does not land on a file (and, with #id, on an element)."""
    pages = {p: parse(p) for p in out.rglob("*.html")}
    problems = []
    for page, parsed in pages.items():
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("//"):
                continue  # data: URIs, the CDN scripts of nbconvert's template, external references
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
            if not target.is_file() or out.resolve() not in target.parents:
                problems.append(f"{page.relative_to(out)}: {link} -> no such file in the site")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if parts.fragment not in ids and unquote(parts.fragment) not in ids:  # browsers try both
                    problems.append(f"{page.relative_to(out)}: {link} -> no element with that id")
    return problems


def stored_images(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.output_type in ("display_data", "execute_result") and ({"image/png", "image/jpeg"} & set(out.data))
    )


# ---------------------------------------------------------------------------------------- the real course
@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not ALL_NOTEBOOKS:
        pytest.skip("no notebooks yet")
    out = tmp_path_factory.mktemp("site") / "site"
    site.build_site(ROOT, out)
    return out


@pytest.mark.slow  # renders the whole course (the `built` fixture)
@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=[str(p) for p in ALL_NOTEBOOKS])
def test_every_notebook_has_a_page_with_its_figures(built: Path, notebook: Path) -> None:
    page = built / notebook.with_suffix(".html")
    assert page.is_file(), f"no page for {notebook}"
    text = page.read_text(encoding="utf-8")
    embedded = len(re.findall(r'<img[^>]+src="data:image/(?:png|jpeg);base64,', text))
    assert embedded >= stored_images(ROOT / notebook), f"{page.name}: {embedded} embedded figures"


@pytest.mark.slow  # renders the whole course (the `built` fixture)
def test_every_internal_link_resolves(built: Path) -> None:
    problems = broken_links(built)
    assert not problems, "broken links in the site:\n" + "\n".join(problems[:40])


@pytest.mark.slow  # renders the whole course (the `built` fixture)
def test_index_lists_the_lessons_in_order_then_exercises_and_solutions(built: Path) -> None:
    index = parse(built / "index.html")
    lessons = [link for link in index.links if link.startswith("notebooks/")]
    assert lessons == [f"notebooks/{p.stem}.html" for p in LESSONS]
    for folder in ("exercises", "solutions"):
        listed = [link for link in index.links if link.startswith(f"{folder}/")]
        assert listed == [f"{folder}/{p.stem}.html" for p in sorted((ROOT / folder).glob("*.ipynb"))]


@pytest.mark.slow  # renders the whole course (the `built` fixture)
def test_lesson_pages_are_titled_by_their_first_heading_and_chained(built: Path) -> None:
    pages = [built / "notebooks" / f"{p.stem}.html" for p in LESSONS]
    for i, (lesson, page) in enumerate(zip(LESSONS, pages, strict=False)):
        nb = nbformat.read(lesson, as_version=4)
        heading = next(
            (
                m.group(1)
                for c in nb.cells
                if c.cell_type == "markdown"
                for m in [re.search(r"^#+\s+(.+)$", c.source, re.M)]
                if m
            ),
            None,
        )
        assert heading, f"{lesson.name} has no heading to title its page"
        parsed = parse(page)
        assert parsed.title.strip() == site.notebook_title(nb, lesson.stem)
        top = dict(parsed.nav_links[0]) if parsed.nav_links else {}
        expected = ([pages[i - 1].name] if i > 0 else []) + ([pages[i + 1].name] if i + 1 < len(pages) else [])
        assert [href for href in top if href in {p.name for p in pages}] == expected, f"{page.name}: {top}"
        assert len(parsed.nav_links) == 2 and parsed.nav_links[0] == parsed.nav_links[1], "nav at top and bottom"


# -------------------------------------------------------------------------------- a synthetic course
def _course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    figure = v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})
    widget = v4.new_output(
        "display_data",
        data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
            "text/plain": "interactive(children=(IntSlider(value=3),))",
        },
    )
    books = {
        "notebooks/00_first.ipynb": [
            v4.new_markdown_cell(
                "# Lesson 00 — The *first* `lesson`\n\nSee [the data](data/table.csv) and [next](01_second.ipynb#Part-two)."
            ),
            v4.new_code_cell("plot()", outputs=[figure]),
        ],
        "notebooks/01_second.ipynb": [
            v4.new_markdown_cell(
                "Intro without heading.\n\n## Part two\n\n[Exercise](../exercises/01_second.ipynb), [gone](missing.ipynb)"
            ),
        ],
        "notebooks/02_third.ipynb": [
            v4.new_markdown_cell("no heading at all"),
            v4.new_code_cell("interact(f)", outputs=[widget]),
            v4.new_code_cell('print("<script>alert(1)</script>")  # <b>not bold</b>'),
        ],
        "exercises/01_second.ipynb": [v4.new_markdown_cell("# Exercises: second")],
        "solutions/01_second.ipynb": [v4.new_markdown_cell("# Exercises: second")],
    }
    for rel, cells in books.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(v4.new_notebook(cells=cells), root / rel)
    (root / "notebooks" / "data").mkdir()
    (root / "notebooks" / "data" / "table.csv").write_text("a,b\n1,2\n")
    return root


def test_titles_come_from_the_first_heading_without_markup() -> None:
    nb = v4.new_notebook(
        cells=[v4.new_markdown_cell("text\n\n## A [1×1](x.ipynb) **conv** `Linear`"), v4.new_markdown_cell("# Later")]
    )
    assert site.notebook_title(nb, "fallback") == "A 1×1 conv Linear"
    assert site.notebook_title(v4.new_notebook(cells=[v4.new_markdown_cell("#hashtag, not a heading")]), "fb") == "fb"


def test_synthetic_course_pages_links_and_navigation(tmp_path: Path) -> None:
    root, out = _course(tmp_path), tmp_path / "site"
    written = site.build_site(root, out)
    assert sorted(p.relative_to(out).as_posix() for p in written) == [
        "exercises/01_second.html",
        "index.html",
        "notebooks/00_first.html",
        "notebooks/01_second.html",
        "notebooks/02_third.html",
        "solutions/01_second.html",
    ]
    # Only the deliberately missing notebook is broken; .ipynb links became pages, the data file was copied.
    assert broken_links(out) == ["notebooks/01_second.html: missing.ipynb -> no such file in the site"]
    first, second = parse(out / "notebooks/00_first.html"), parse(out / "notebooks/01_second.html")
    assert "01_second.html#Part-two" in first.links and "data/table.csv" in first.links
    assert (out / "notebooks/data/table.csv").read_text() == "a,b\n1,2\n"
    assert "../exercises/01_second.html" in second.links
    assert (
        first.title == "Lesson 00 — The first lesson"
        and second.title == "Part two"
        and parse(out / "notebooks/02_third.html").title == "02_third"
    )
    assert [text for _, text in second.nav_links[0]] == [
        "Course index",
        "← previous: Lesson 00 — The first lesson",
        "next: 02_third →",
        "exercise 01",
        "solution 01",
    ]
    third = (out / "notebooks/02_third.html").read_text()
    assert "interactive(children" not in third and "open it in JupyterLab to use it" in third
    # Code is shown as text (escaped by Pygments; the page template skips bleach for code, not for outputs).
    assert "<script>alert" not in third and "<b>not bold" not in third and "&lt;script&gt;" in third
    assert re.search(r'<img[^>]+src="data:image/png;base64,', (out / "notebooks/00_first.html").read_text())
    index = parse(out / "index.html")
    assert '<a href="notebooks/00_first.html">The first lesson</a>' in (out / "index.html").read_text()
    assert [link for link in index.links if link.endswith(".html")] == [
        "notebooks/00_first.html",
        "notebooks/01_second.html",
        "notebooks/02_third.html",
        "exercises/01_second.html",
        "solutions/01_second.html",
    ]


def test_refuses_to_write_over_the_course(tmp_path: Path) -> None:
    root = _course(tmp_path)
    for out in (root, root / "notebooks"):
        with pytest.raises(ValueError, match="must be a separate folder"):
            site.build_site(root, out)
    assert (root / "notebooks" / "00_first.ipynb").exists()

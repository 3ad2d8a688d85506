"""Render the course into a static HTML site: ``python -m course_utils.site [--root .] [--out site]``.

Every notebook under ``notebooks/`` (lessons), ``exercises/`` and ``solutions/`` is rendered with its stored
outputs by nbconvert's ``HTMLExporter`` (JupyterLab look; figures are embedded as ``data:`` URIs, so each
page stands alone). The site mirrors the repository's layout, so links written in the notebooks keep working:

    site/index.html                      lessons in order, each with its exercise and solution
    site/notebooks/01_topic.html         a lesson, with previous / next links and its exercise pages
    site/exercises/01_topic.html         the exercise as a learner first sees it
    site/solutions/01_topic.html         the exercise with its solution and the checks' verdicts

A relative link to a rendered notebook (``../exercises/01_topic.ipynb#Part-1``) is rewritten to its page
(``../exercises/01_topic.html#Part-1``); any other relative link to a file of the repository is copied
next to the pages. Links that point nowhere are left alone, and ``tests/test_site.py`` reports them.
"""

from __future__ import annotations

import argparse
import html
import posixpath
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import jinja2
import nbformat
from nbconvert import HTMLExporter

__all__ = ["SECTIONS", "Page", "notebook_title", "collect_pages", "build_site", "main"]

#: (folder, heading on the index, word used in navigation), in the order the index shows them.
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("notebooks", "Lessons", "lesson"),
    ("exercises", "Exercises", "exercise"),
    ("solutions", "Solutions", "solution"),
)
_SECTION_WORD = {folder: word for folder, _, word in SECTIONS}

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_WIDGET_NOTE = (
    '<p class="course-widget-note"><em>An interactive widget is shown here when the notebook runs: '
    "open it in JupyterLab to use it.</em></p>"
)
_URL_ATTR = re.compile(r"""(\s(?:href|src)=)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)

_NAV_CSS = """
<style>
nav.course-nav { display: flex; flex-wrap: wrap; gap: 0.4em 1.5em; align-items: baseline;
  max-width: 1100px; margin: 0 auto; padding: 0.6em 1em; font: 14px/1.4 system-ui, sans-serif;
  border-bottom: 1px solid #ddd; }
nav.course-nav.bottom { border-bottom: none; border-top: 1px solid #ddd; margin-top: 2em; }
nav.course-nav a { text-decoration: none; color: #1a5fb4; }
nav.course-nav a:hover { text-decoration: underline; }
nav.course-nav .spacer { flex: 1; }
</style>
"""

# Extends nbconvert's own JupyterLab template; only adds the navigation bars and their style.
_PAGE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_css -%}{{ super() }}{{ resources.course_nav_css }}{%- endblock html_head_css -%}
{%- block body_header -%}{{ super() }}{{ resources.course_nav_top }}{%- endblock body_header -%}
{% block body_footer %}{{ resources.course_nav_bottom }}{{ super() }}{% endblock body_footer %}
{#- lab's code input without `clean_html`: Pygments has escaped the source already, and bleach re-parsing every
    highlighted cell took a third of the build. Markdown and HTML outputs are still cleaned. -#}
{% block input %}
<div class="jp-CodeMirrorEditor jp-Editor jp-InputArea-editor" data-type="inline">
     <div class="cm-editor cm-s-jupyter">
{{ cell.source | highlight_code(metadata=cell.metadata) }}
     </div>
</div>
{%- endblock input %}
"""

_INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: 0.35em 0.6em; border-bottom: 1px solid #ddd; vertical-align: top; }}
a {{ color: #1a5fb4; text-decoration: none; }} a:hover {{ text-decoration: underline; }}
.muted {{ color: #777; }}
ol.lessons {{ list-style: none; padding-left: 0; }} ol.lessons li {{ margin: 0.3em 0; }}
.num {{ display: inline-block; width: 2.2em; color: #777; font-variant-numeric: tabular-nums; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{intro}</p>
<h2>Lessons, in order</h2>
<ol class="lessons">
{lessons}
</ol>
<h2>Exercises and solutions</h2>
<table class="exercises">
<thead><tr><th>#</th><th>Exercise</th><th>Pages</th></tr></thead>
<tbody>
{exercises}
</tbody>
</table>
<p class="muted">Rendered from the notebooks' stored outputs with nbconvert.
Run them yourself with <code>make lab</code> (or <code>pip install -e .</code> and <code>jupyter lab</code>).</p>
</body>
</html>
"""


@dataclass(frozen=True)
class Page:
    """One rendered notebook: ``source`` is relative to the course root, e.g. ``notebooks/01_x.ipynb``."""

    source: PurePosixPath
    title: str

    @property
    def section(self) -> str:
        """The folder the notebook lives in: ``notebooks``, ``exercises`` or ``solutions``."""
        return self.source.parts[0]

    @property
    def number(self) -> str:
        """The lesson number the file name starts with (``"01"``), or ``""`` when it has none."""
        match = re.match(r"\d+", self.source.name)
        return match.group(0) if match else ""

    @property
    def href(self) -> PurePosixPath:
        """Where the page lands in the site, relative to the site root."""
        return self.source.with_suffix(".html")


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The text of the notebook's first markdown heading (inline markup dropped), else ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        match = _HEADING.search(cell.source)
        if match:
            text = _MD_LINK.sub(r"\1", match.group(2))
            text = re.sub(r"[`*]|<[^>]+>", "", text).strip()
            if text:
                return text
    return fallback


def _load_course(root: Path) -> list[tuple[Page, nbformat.NotebookNode]]:
    """Every notebook of the course under ``root`` with its page, section by section, in file-name order."""
    loaded = []
    for folder, _, _ in SECTIONS:
        for path in sorted((root / folder).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            loaded.append((Page(PurePosixPath(folder, path.name), notebook_title(nb, fallback=path.stem)), nb))
    return loaded


def collect_pages(root: str | Path) -> list[Page]:
    """Every notebook of the course under ``root``, section by section, in file-name (teaching) order."""
    return [page for page, _ in _load_course(Path(root))]


def _relative(target: PurePosixPath, start_dir: PurePosixPath) -> str:
    """``target`` as a link from a page in ``start_dir`` (both relative to the site root)."""
    return posixpath.relpath(str(target), str(start_dir) or ".")


def _link(page: Page, target: Page, text: str) -> str:
    href = html.escape(_relative(target.href, page.href.parent), quote=True)
    return f'<a href="{href}">{html.escape(text)}</a>'


def _nav(page: Page, pages: list[Page], where: str) -> str:
    """The previous / next bar of ``page``, with its siblings of the same number in the other sections."""
    same_section = [p for p in pages if p.section == page.section]
    i = same_section.index(page)
    index_href = html.escape(_relative(PurePosixPath("index.html"), page.href.parent), quote=True)
    items = [f'<a href="{index_href}">Course index</a>']
    if i > 0:
        prev = same_section[i - 1]
        items.append(_link(page, prev, f"← previous: {prev.title}"))
    if i + 1 < len(same_section):
        nxt = same_section[i + 1]
        items.append(_link(page, nxt, f"next: {nxt.title} →"))
    items.append('<span class="spacer"></span>')
    if page.number:
        for other in pages:
            if other.number == page.number and other.section != page.section:
                items.append(_link(page, other, f"{_SECTION_WORD[other.section]} {other.number}"))
    return f'<nav class="course-nav {where}" aria-label="course">{" ".join(items)}</nav>'


def _without_live_widgets(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Replace ipywidgets outputs (stored without widget state, so only a repr) by a short note."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if _WIDGET_MIME in out.get("data", {}):
                out["data"] = nbformat.NotebookNode({"text/html": _WIDGET_NOTE})
    return nb


def _index_title(page: Page) -> str:
    """The title without a leading "Lesson 03 —" / "03." (the index shows the number in its own column)."""
    if not page.number:
        return page.title
    short = re.sub(rf"^(?:lesson\s+)?{page.number}\s*(?:[—–:.-]\s*)?", "", page.title, flags=re.IGNORECASE)
    return short or page.title


def _rewrite_links(page_html: str, page: Page, pages: list[Page], root: Path, out: Path) -> str:
    """Point relative links at rendered pages (``.ipynb`` → ``.html``); copy other linked repository files."""
    by_source = {p.source: p for p in pages}

    def fix(match: re.Match[str]) -> str:
        prefix, quote, raw = match.groups()
        url = html.unescape(raw)
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith(("#", "/")) or not parts.path:
            return match.group(0)
        target = (root / page.source.parent / unquote(parts.path)).resolve()
        try:
            rel = PurePosixPath(target.relative_to(root.resolve()).as_posix())
        except ValueError:  # points outside the course: leave it for the link test to report
            return match.group(0)
        if rel in by_source:
            new = _relative(by_source[rel].href, page.href.parent)
        elif target.is_file():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, out / rel)
            new = _relative(rel, page.href.parent)
        else:
            return match.group(0)
        if parts.query:
            new += f"?{parts.query}"
        if parts.fragment:
            new += f"#{parts.fragment}"
        return f"{prefix}{quote}{html.escape(new, quote=True)}{quote}"

    return _URL_ATTR.sub(fix, page_html)


def _index_html(pages: list[Page], title: str) -> str:
    index = Page(PurePosixPath("index.ipynb"), title)
    lessons = [p for p in pages if p.section == "notebooks"]
    lesson_items = "\n".join(
        f'<li><span class="num">{html.escape(p.number)}</span> {_link(index, p, _index_title(p))}</li>' for p in lessons
    )
    numbers = sorted({p.number for p in pages if p.section in ("exercises", "solutions")})
    rows = []
    for number in numbers:
        found = [p for p in pages if p.section in ("exercises", "solutions") and p.number == number]
        links = " · ".join(_link(index, p, _SECTION_WORD[p.section]) for p in found)
        rows.append(f"<tr><td>{html.escape(number)}</td><td>{html.escape(found[0].title)}</td><td>{links}</td></tr>")
    intro = (
        "Every lesson and exercise of the course, rendered with its stored outputs. "
        "Read the lessons in order; each ends with a pointer to its exercise notebook."
    )
    return _INDEX_TEMPLATE.format(
        title=html.escape(title),
        intro=intro,
        lessons=lesson_items or '<li class="muted">no lessons yet</li>',
        exercises="\n".join(rows) or '<tr><td colspan="3" class="muted">no exercises yet</td></tr>',
    )


def build_site(
    root: str | Path = ".",
    out: str | Path = "site",
    *,
    title: str = "1×1 convolutions, hands on",
) -> list[Path]:
    """Render every notebook of the course under ``root`` into ``out``; return the pages written.

    ``out`` is emptied first (it only ever holds generated files). Raises ``ValueError`` if ``out`` is
    the course root itself or one of its source folders.
    """
    root, out = Path(root).resolve(), Path(out).resolve()
    if out == root or out in [(root / folder).resolve() for folder, _, _ in SECTIONS]:
        raise ValueError(f"out={str(out)!r} must be a separate folder, not the course root or a notebook folder")
    loaded = _load_course(root)  # each notebook is read once: for its title here, for rendering below
    pages = [page for page, _ in loaded]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    exporter = HTMLExporter(
        template_name="lab",
        template_file="course_page.html.j2",
        extra_loaders=[jinja2.DictLoader({"course_page.html.j2": _PAGE_TEMPLATE})],
        embed_images=True,  # markdown images become data: URIs too (outputs already are)
    )
    written = []
    for page, nb in loaded:
        nb = _without_live_widgets(nb)
        resources = {
            "metadata": {"name": page.title, "path": str(root / page.section)},
            "course_nav_css": _NAV_CSS,
            "course_nav_top": _nav(page, pages, "top"),
            "course_nav_bottom": _nav(page, pages, "bottom"),
        }
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        target = out / page.href
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_rewrite_links(body, page, pages, root, out), encoding="utf-8")
        written.append(target)
    index = out / "index.html"
    index.write_text(_index_html(pages, title), encoding="utf-8")
    return [index, *written]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.site",
        description="Render every lesson, exercise and solution notebook, with stored outputs, into a static HTML site.",
    )
    parser.add_argument("--root", default=".", help="the course folder (holds notebooks/, exercises/, solutions/)")
    parser.add_argument("--out", default="site", help="where to write the site (emptied first)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    written = build_site(args.root, args.out)
    print(
        f"wrote {len(written)} pages to {args.out}/ in {time.perf_counter() - start:.1f} s; open {args.out}/index.html"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

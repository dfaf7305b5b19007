"""The README and the pages under docs/ hold together (issue 26 item 7): every relative link reaches a file and,
where it names one, a heading; the README stays short enough to read in five minutes; nothing needs the internet;
and what the pages name (settings, files, lfr_core's packages) exists."""

from __future__ import annotations

import re

from lfr_core.config import PROJECT_ROOT, Settings

README = PROJECT_ROOT / "README.md"
PAGES = [README, *sorted((PROJECT_ROOT / "docs").glob("*.md"))]

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def _prose(text: str) -> str:
    """The text outside fenced code blocks (a `# comment` in a bash block is not a heading)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return "\n".join(lines)


def anchors(text: str) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens, and a
    repeated heading numbered -1, -2, ..."""
    found: set[str] = set()
    for line in _prose(text).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in found:
            n += 1
            candidate = f"{slug}-{n}"
        found.add(candidate)
    return found


def test_anchors_follow_githubs_rule():
    text = "# Operations: setting up\n## What `make demo` does\n```bash\n# not a heading\n```\n## Layers\n## Layers\n"
    assert anchors(text) == {"operations-setting-up", "what-make-demo-does", "layers", "layers-1"}


def test_every_relative_link_reaches_a_file_and_its_heading():
    broken = []
    for page in PAGES:
        for target in LINK.findall(_prose(page.read_text())):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: are not files of the repository
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(PROJECT_ROOT)} -> {target}"
            if not file.exists():
                broken.append(f"{where}: no such file")
            elif PROJECT_ROOT.resolve() not in file.parents and file != PROJECT_ROOT.resolve():
                broken.append(f"{where}: outside the repository")
            elif anchor and (file.suffix != ".md" or anchor not in anchors(file.read_text())):
                broken.append(f"{where}: no heading #{anchor}")
    assert not broken, "\n".join(broken)


def test_the_readme_reads_in_five_minutes():
    """Five minutes at the 200-250 words a minute people read technical prose is 1,000-1,250 words; with its
    tables and commands the README averages about 7 bytes a word, so 8,000 bytes is five minutes' reading.
    What does not fit goes to docs/ and the README links to it."""
    text = README.read_text()
    assert len(text.encode()) < 8_000, f"README.md is {len(text.encode())} bytes; move detail to docs/"
    assert len(text.split()) < 1_250


def test_the_pages_need_no_internet():
    """A police network has no internet: no image or badge is fetched from outside."""
    outside = [f"{page.relative_to(PROJECT_ROOT)}: {m.group(0)}" for page in PAGES
               for m in re.finditer(r"!\[[^\]]*\]\((?:https?:)?//[^)]*\)|<img[^>]+src=[\"']?(?:https?:)?//[^>]*>",
                                    page.read_text(), re.I)]
    assert not outside, outside


def test_every_setting_the_pages_name_exists():
    named = {name for page in PAGES for name in re.findall(r"\bLFR_([A-Z]+)__([A-Z_]+[A-Z])\b", page.read_text())}
    groups = Settings.model_fields
    missing = [f"LFR_{group}__{field}" for group, field in sorted(named)
               if group.lower() not in groups or field.lower() not in groups[group.lower()].annotation.model_fields]
    assert named and not missing, f"named in README.md or docs/ but not in lfr_core/config.py: {missing}"


def test_every_file_the_pages_name_exists():
    # Paths under the repository's own folders; `.lfr/...` and `LFR_HOME/...` are made at run time.
    tops = {p.name for p in PROJECT_ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")} | {".ci"}
    named = {(page, m) for page in PAGES
             for m in re.findall(r"`([\w.-]+/[\w./-]*)`", page.read_text()) if m.split("/", 1)[0] in tops}
    missing = [f"{page.relative_to(PROJECT_ROOT)}: {path}" for page, path in sorted(named)
               if not (PROJECT_ROOT / path).exists()]
    assert named and not missing, "\n".join(missing)


def test_the_architecture_page_names_every_package_of_lfr_core():
    text = (PROJECT_ROOT / "docs" / "architecture.md").read_text()
    packages = sorted(p.parent.name for p in (PROJECT_ROOT / "lfr_core").glob("*/__init__.py"))
    assert packages and [p for p in packages if f"`lfr_core/{p}/`" not in text] == []

"""Helpers shared by the pack tests: a pack folder you can edit line by line, a
problem matcher that prints every problem on failure, plugin objects for
EXTRA_PLUGINS, the bundled and installed packs, and an HTML safety inspector."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from portal import __version__ as PORTAL_VERSION
from portal.packs.loader import Problem, validate_pack
from portal.packs.starter import write_starter_pack
from portal.plugins import hookimpl

REPO = Path(__file__).resolve().parents[2]
CONTENT_PACKS = REPO / "content_packs"
ANY = object()

__all__ = ["ANY", "CONTENT_PACKS", "PORTAL_VERSION", "REPO", "PackDirs", "PackFolder", "bundled_distributions",
           "expect_problem", "html_problems", "installed_pack_dirs", "new_starter"]


class PackFolder:
    """A pack folder on disk, edited by exact text so that tests know each line number."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read(self, rel: str = "pack.yaml") -> str:
        return self.path(rel).read_text(encoding="utf-8")

    def write(self, rel: str, text: str | bytes) -> None:
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")

    def append(self, rel: str, text: str) -> None:
        self.write(rel, self.read(rel) + text)

    def replace(self, old: str, new: str, rel: str = "pack.yaml", nth: int = 1) -> None:
        """Replace the nth occurrence of `old`; fail loudly if the starter changed under us."""
        text = self.read(rel)
        index = -1
        for _ in range(nth):
            index = text.find(old, index + 1)
            assert index >= 0, f"{old!r} occurs fewer than {nth} times in {rel}:\n{text}"
        self.write(rel, text[:index] + new + text[index + len(old):])

    def delete(self, rel: str) -> None:
        self.path(rel).unlink()

    def line_of(self, needle: str, rel: str = "pack.yaml", nth: int = 1) -> int:
        """1-based number of the nth line containing `needle`."""
        hits = [n for n, line in enumerate(self.read(rel).splitlines(), 1) if needle in line]
        assert len(hits) >= nth, f"{needle!r} is on fewer than {nth} lines of {rel}:\n{self.read(rel)}"
        return hits[nth - 1]

    def problems(self, max_file_bytes: int | None = None) -> list[Problem]:
        kwargs = {"max_file_bytes": max_file_bytes} if max_file_bytes is not None else {}
        return validate_pack(self.root, PORTAL_VERSION, **kwargs)


def new_starter(parent: Path, name: str = "starter-course", title: str = "Starter Course") -> PackFolder:
    return PackFolder(write_starter_pack(Path(parent) / name, name, title))


def expect_problem(problems: list[Problem], file: str, line=ANY, *fragments: str) -> Problem:
    """The first problem in `file` at `line` (an int, None, a set of ints, or ANY) whose
    message holds every fragment (case-insensitive); fails listing all problems."""
    def line_ok(problem):
        if line is ANY:
            return True
        if isinstance(line, (set, frozenset)):
            return problem.line in line
        return problem.line == line

    for problem in problems:
        if problem.file == file and line_ok(problem) and all(f.lower() in problem.message.lower() for f in fragments):
            return problem
    shown = "\n".join(f"  {p.file!r} line {p.line!r}: {p.message}" for p in problems) or "  (no problems at all)"
    want = f"file {file!r}" + ("" if line is ANY else f", line {line!r}") + (f", message with {fragments!r}" if fragments else "")
    raise AssertionError(f"expected a problem in {want}; validate_pack returned:\n{shown}")


class PackDirs:
    """A plugin object for EXTRA_PLUGINS returning the given pack folders."""

    def __init__(self, name: str, *dirs: Path):
        self.__name__ = name  # pluggy names the plugin after this
        self.dirs = [Path(d) for d in dirs]

    @hookimpl
    def portal_content_pack_dirs(self) -> list[Path]:
        return list(self.dirs)

    def __repr__(self) -> str:
        return f"<PackDirs {self.__name__}>"


def _is_build_part(part: str) -> bool:
    return part in {".venv", "build", "dist", "__pycache__"} or part.endswith(".egg-info")


def bundled_distributions() -> list[tuple[Path, Path | None]]:
    """Every distribution under content_packs/ and its pack folder (None while it has no pack.yaml)."""
    found = []
    for dist in sorted(CONTENT_PACKS.iterdir()):
        if not (dist / "pyproject.toml").is_file():
            continue
        manifests = sorted(p for p in dist.rglob("pack.yaml")
                           if not any(_is_build_part(part) for part in p.relative_to(dist).parts))
        found.append((dist, manifests[0].parent if manifests else None))
    return found


def installed_pack_dirs() -> list[tuple[str, Path]]:
    """(plugin name, folder) for every pack the installed entry points return."""
    from portal.packs.registry import _pack_dirs
    from portal.plugins.manager import get_plugin_manager

    pm, _ = get_plugin_manager()
    return _pack_dirs(pm)


# -- HTML inspection -----------------------------------------------------------------

MARKDOWN_TAGS = frozenset(
    "p a img em strong code pre h1 h2 h3 h4 h5 h6 ul ol li blockquote hr br table thead tbody tr th td s del".split())
FORBIDDEN_TAGS = frozenset("script iframe object embed style svg math frame frameset base meta link form "
                           "input button textarea video audio source applet template noscript".split())
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
URL_ATTRIBUTES = frozenset({"href", "src", "srcset", "action", "formaction", "xlink:href", "background",
                            "poster", "data", "lowsrc", "dynsrc", "cite", "longdesc", "usemap"})
# What a browser ignores inside or around a URL scheme: C0 controls, space, DEL, C1 and
# zero-width/bidi characters that users cannot see.
_IGNORED = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def url_problem(url: str) -> str | None:
    """Why a browser could run or load something dangerous from this href/src, or None.

    A scheme can only sit before the first `/`, `?` or `#`, so `./javascript:x` (a
    relative path) is fine while ` java\tscript:x` is not."""
    compact = _IGNORED.sub("", url).lower()
    head = re.split(r"[/?#]", compact, maxsplit=1)[0]
    for bad in ("javascript:", "vbscript:", "data:text", "livescript:", "mocha:"):
        if bad in head or compact.startswith(bad):
            return f"contains {bad}"
    match = _SCHEME.match(compact)
    if match and match.group(1) not in SAFE_SCHEMES:
        return f"uses the {match.group(1)}: scheme"
    if not match and ":" in compact.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        return "has a colon before its first slash (a browser may read it as a scheme)"
    return None


class _Inspector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in FORBIDDEN_TAGS:
            self.found.append(f"<{tag}> element")
        elif tag not in MARKDOWN_TAGS:
            self.found.append(f"<{tag}> is not an element Markdown produces")
        for name, value in attrs:
            name = name.lower()
            if name.startswith("on"):
                self.found.append(f"<{tag}> has event handler attribute {name}={value!r}")
            if name == "style":
                self.found.append(f"<{tag}> has a style attribute")
            if name in URL_ATTRIBUTES and value is not None and (why := url_problem(value)):
                self.found.append(f"<{tag} {name}={value!r}> {why}")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data):
        self.found.append(f"HTML comment <!--{data}-->")

    def handle_decl(self, decl):
        self.found.append(f"declaration <!{decl}>")

    def handle_pi(self, data):
        self.found.append(f"processing instruction <?{data}>")

    def unknown_decl(self, data):
        self.found.append(f"unknown declaration {data!r}")


def html_problems(html: str) -> list[str]:
    """Every way `html` could run script or load foreign content; empty when it is safe."""
    found = []
    if "<script" in html.lower():
        found.append("contains '<script'")
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return found + inspector.found

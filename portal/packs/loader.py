"""Read a pack folder, check everything a provider can get wrong, and build a `Pack`.

Every problem names its file, and its line where there is one, so
`portal packs validate` can print a list a provider can work through.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from markdown_it import MarkdownIt
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from portal.common.markdown import is_safe_link
from portal.packs.authored_yaml import AuthoredLoader, AuthoredText, cut_flow_keys
from portal.packs.model import (ACCREDITATION_STATUSES, KINDS, MIN_PASS_MARK, QUESTION_TYPES, Accreditation,
                                Choice, Download, InPerson, InPersonSession, Lesson, Pack, Provider, Question,
                                Resource, Video)

log = logging.getLogger(__name__)
MANIFEST = "pack.yaml"
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
DEFAULT_MAX_FILE_BYTES = 25 * 1024 * 1024
# A scanner that keeps everything (raw HTML, any link scheme) so that the checks below can
# see it and refuse it; the renderer that learners meet refuses the same things silently.
_scanner = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_scanner.validateLink = lambda url: True


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str
    warning: bool = False  # shown by `packs validate`, never stops a pack
    key: tuple = field(default=(), compare=False, repr=False)  # the YAML key path, when there is one

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {'warning: ' if self.warning else ''}{self.message}"


class PackInvalid(Exception):
    def __init__(self, root: Path, problems: list[Problem]):
        self.root, self.problems = root, problems
        super().__init__(f"content pack at {root} is invalid:\n" + "\n".join(f"  {p}" for p in problems))


class _Lines:
    """Line numbers of every key path in a YAML document."""

    def __init__(self, node):
        self.lines: dict[tuple, int] = {}
        self.cut_keys: dict[tuple, str] = cut_flow_keys(node) if node is not None else {}
        if node is not None:
            self._walk(node, ())

    def _walk(self, node, path):
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.lines[path + (key.value,)] = key.start_mark.line + 1
                self._walk(value, path + (key.value,))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, path + (index,))

    def __call__(self, *path) -> int | None:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path)


def _read_yaml(path: Path, problems: list[Problem], rel: str):
    """The document as its author meant it (see authored_yaml) and the line of every key."""
    try:
        text = path.read_text(encoding="utf-8")
        loader = AuthoredLoader(text)
        try:
            node = loader.get_single_node()
            return (loader.construct_document(node) if node is not None else None), _Lines(node)
        finally:
            loader.dispose()
    except FileNotFoundError:
        problems.append(Problem(rel, None, "file is missing"))
    except UnicodeDecodeError:
        problems.append(Problem(rel, None, "file is not UTF-8 text"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problems.append(Problem(rel, mark.line + 1 if mark else None, f"not valid YAML: {getattr(error, 'problem', error)}"))
    return None, _Lines(None)


class _Checker:
    """Collects problems while reading one YAML file's values."""

    def __init__(self, root: Path, rel: str, lines: _Lines, problems: list[Problem], max_file_bytes: int):
        self.root, self.rel, self.lines, self.problems = root, rel, lines, problems
        self.max_file_bytes = max_file_bytes

    def fail(self, path: tuple, message: str) -> None:
        self.problems.append(Problem(self.rel, self.lines(*path), message, key=path))

    def text(self, data: dict, key: str, path: tuple, required: bool = True, max_len: int = 10000) -> str:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(path + (key,), f"{_dotted(path + (key,))} is required")
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.fail(path + (key,), f"{_dotted(path + (key,))} must be text")
            return ""
        value = str(value).strip()
        if len(value) > max_len:
            self.fail(path + (key,), f"{_dotted(path + (key,))} is longer than {max_len} characters")
        return value

    def number(self, data: dict, key: str, path: tuple, required=True, minimum=0.0, integer=False):
        value = data.get(key)
        if value is None:
            if required:
                self.fail(path + (key,), f"{_dotted(path + (key,))} is required")
            return None
        if isinstance(value, AuthoredText) and value.note:
            self.fail(path + (key,), f"{_dotted(path + (key,))} must be a {'whole ' if integer else ''}number: "
                                     f"{value.note}; write it as plain digits")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
            self.fail(path + (key,), f"{_dotted(path + (key,))} must be a{'n integer' if integer else ' number'}")
            return None
        if minimum > 0 and value < minimum:
            self.fail(path + (key,), f"{_dotted(path + (key,))} must be at least {minimum:g}")
            return None
        if minimum == 0 and (value < 0 or (value == 0 and key != "credit_hours")):
            self.fail(path + (key,), f"{_dotted(path + (key,))} must be more than 0")
            return None
        return value

    def strings(self, data: dict, key: str, path: tuple, required=False) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(path + (key,), f"{_dotted(path + (key,))} must be a list of text")
            return ()
        if required and not value:
            self.fail(path + (key,), f"{_dotted(path + (key,))} needs at least one entry")
        return tuple(v.strip() for v in value)

    def ident(self, data: dict, path: tuple, seen: set) -> str:
        value = self.text(data, "id", path)
        if value and not ID_PATTERN.match(value):
            self.fail(path + ("id",), f"{_dotted(path + ('id',))} {value!r} must be 2-63 lowercase letters, digits or hyphens")
        elif value in seen:
            self.fail(path + ("id",), f"{_dotted(path + ('id',))} {value!r} is used twice")
        seen.add(value)
        return value

    def file(self, data: dict, key: str, path: tuple, required=True) -> str | None:
        value = self.text(data, key, path, required=required, max_len=300)
        if not value:
            return None
        relative = PurePosixPath(value)
        if relative.is_absolute() or ".." in relative.parts:
            self.fail(path + (key,), f"{_dotted(path + (key,))} must be a path inside the pack: {value}")
            return None
        full = self.root / relative
        if not full.is_file():
            self.fail(path + (key,), f"{_dotted(path + (key,))} names a file that does not exist: {value}")
            return None
        if full.stat().st_size > self.max_file_bytes:
            size = full.stat().st_size
            self.fail(path + (key,), f"{value} is {size} bytes ({size / 1048576:.2f} MB), over the "
                                     f"budget of {self.max_file_bytes} bytes ({self.max_file_bytes / 1048576:.2f} MB) "
                                     "for one file")
        return value

    def date_(self, data: dict, key: str, path: tuple, required=False) -> date | None:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(path + (key,), f"{_dotted(path + (key,))} is required")
            return None
        if isinstance(value, AuthoredText) and value.note:
            self.fail(path + (key,), f"{_dotted(path + (key,))}: {value} is not a day in the calendar: write a "
                                     "real date like 2026-02-28")
            return None
        if not isinstance(value, date):
            self.fail(path + (key,), f"{_dotted(path + (key,))} must be a date like 2026-01-31")
            return None
        return value

    def mapping(self, data: Any, path: tuple) -> dict:
        if not isinstance(data, dict):
            self.fail(path, f"{_dotted(path) or 'the document'} must be a mapping of keys to values")
            return {}
        return data

    def listing(self, data: dict, key: str, path: tuple, required=False) -> list:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(path + (key,), f"{_dotted(path + (key,))} is required")
            return []
        if not isinstance(value, list):
            self.fail(path + (key,), f"{_dotted(path + (key,))} must be a list")
            return []
        return value


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_markdown(root: Path, rel: str, text: str, problems: list[Problem], public_files: set[str] | None = None) -> None:
    """Refuse raw HTML and unsafe links; check that relative links point at pack files."""
    base = PurePosixPath(rel).parent
    for token in _scanner.parse(text):
        line = token.map[0] + 1 if token.map else None
        if token.type == "html_block":
            problems.append(Problem(rel, line, "raw HTML is not allowed in pack Markdown (it is never shown)"))
        breaks = 0  # line breaks inside a paragraph move the line of what follows them
        for child in token.children or []:
            if child.type in ("softbreak", "hardbreak"):
                breaks += 1
                continue
            line = token.map[0] + 1 + breaks if token.map else None
            if child.type == "html_inline":
                problems.append(Problem(rel, line, f"raw HTML is not allowed in pack Markdown: {child.content[:40]}"))
            target = child.attrGet("href") if child.type == "link_open" else (
                child.attrGet("src") if child.type == "image" else None)
            if target is None:
                continue
            target = str(target)
            if not is_safe_link(target):
                problems.append(Problem(rel, line, f"unsafe link {target[:60]!r}: only http, https, mailto, tel and "
                                                   "relative links are allowed"))
                continue
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("#", "/")):
                continue
            linked = (base / target.split("#", 1)[0].split("?", 1)[0]).as_posix()
            resolved = _normalise(linked)
            if resolved is None or not (root / resolved).is_file():
                problems.append(Problem(rel, line, f"broken link: {target} (no such file in the pack)"))
            elif public_files is not None and resolved not in public_files:
                problems.append(Problem(rel, line, f"link to {target}: only downloads and media named in "
                                                   "pack.yaml can be linked"))


def _normalise(path: str) -> str | None:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def _signature(root: Path) -> tuple:
    """Every file under a pack with its size and modification time: a changed file is a new pack."""
    return tuple(sorted((str(p.relative_to(root)), s.st_size, s.st_mtime_ns)
                        for p in root.rglob("*") if p.is_file() and (s := p.stat())))


_loaded: dict[tuple, Pack] = {}


def load_pack(root: Path, portal_version: str, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Pack:
    """Load and validate the pack in `root`; raise PackInvalid listing every problem.
    A valid pack is kept per process until any of its files changes."""
    key = (str(root), portal_version, max_file_bytes, _signature(Path(root)))
    if key in _loaded:
        return _loaded[key]
    pack = _load_pack(root, portal_version, max_file_bytes)
    _loaded[key] = pack
    return pack


def _load_pack(root: Path, portal_version: str, max_file_bytes: int) -> Pack:
    problems: list[Problem] = []
    pack = _build_safely(Path(root), portal_version, problems, max_file_bytes, None)
    if problems or pack is None:
        raise PackInvalid(Path(root), problems or [Problem(MANIFEST, None, "could not be read")])
    return pack


def validate_pack(root: Path, portal_version: str, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[Problem]:
    """Every error in the pack at `root` (empty when it is valid)."""
    problems: list[Problem] = []
    _build_safely(Path(root), portal_version, problems, max_file_bytes, None)
    return problems


def check_pack(root: Path, portal_version: str, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[Problem]:
    """Every error, then every warning (`Problem.warning`), in the pack at `root`."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    _build_safely(Path(root), portal_version, problems, max_file_bytes, warnings)
    return problems + warnings


def _build_safely(root: Path, portal_version: str, problems: list[Problem], max_file_bytes: int,
                  warnings: list[Problem] | None) -> Pack | None:
    """Build the pack; a check that trips over input nobody foresaw is one more problem, never a
    traceback from `packs validate` or a portal that will not start."""
    from portal.packs.validate import build_pack

    try:
        return build_pack(root, portal_version, problems, max_file_bytes, warnings)
    except Exception as error:  # noqa: BLE001 - reported to the author with what was found so far
        log.exception("the pack validator failed on %s", root)
        problems.append(Problem(MANIFEST, None, f"the validator could not finish reading this pack "
                                                f"({type(error).__name__}: {error}); fix the problems above, "
                                                "and report this message to the portal's maintainers"))
        return None


def content_type_of(path: str) -> str:
    if path.endswith(".vtt"):
        return "text/vtt"
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def version_problems(portal_versions: str, portal_version: str) -> str | None:
    try:
        spec = SpecifierSet(portal_versions)
    except InvalidSpecifier:
        return f"portal_versions {portal_versions!r} is not a version range like '>=0.1,<1'"
    try:
        if Version(portal_version) not in spec:
            return f"this pack works with portal versions {portal_versions}, and this portal is {portal_version}"
    except InvalidVersion:
        return None
    return None


__all__ = ["MANIFEST", "PackInvalid", "Problem", "check_pack", "load_pack", "validate_pack", "check_markdown",
           "content_type_of", "version_problems", "_Checker", "_read_yaml", "ID_PATTERN",
           "ACCREDITATION_STATUSES", "KINDS", "MIN_PASS_MARK", "QUESTION_TYPES", "Accreditation", "Choice",
           "Download", "InPerson", "InPersonSession", "Lesson", "Pack", "Provider", "Question", "Resource",
           "Video"]

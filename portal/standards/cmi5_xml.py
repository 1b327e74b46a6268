"""Read a cmi5 course structure (cmi5.xml) with a hardened parser, checking the rules of
the cmi5 specification (Quartz) and its CourseStructure.xsd; each refusal names its rule.

Parsed with defusedxml's SAX parser: DTDs, entities and external references are refused,
and every element keeps its line so that a provider is told where the problem is.
"""

from __future__ import annotations

import re
import xml.sax
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import defusedxml.sax
from defusedxml import DefusedXmlException

NS = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"
MOVE_ON = ("Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed", "NotApplicable")
LAUNCH_METHODS = ("AnyWindow", "OwnWindow")
# Launch parameters the LMS adds to every AU URL (cmi5 8.1): the AU's own URL must not use them.
RESERVED_PARAMS = ("endpoint", "fetch", "actor", "registration", "activityId")
# RFC 3986: characters allowed anywhere in a URI (percent-encoding included).
_URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class StructureRefused(Exception):
    """The course structure breaks a rule: `rule` is the cmi5 requirement id, when there is one."""

    def __init__(self, rule: str, message: str, file: str = "cmi5.xml", line: int | None = None):
        self.rule, self.message, self.file, self.line = rule, message, file, line
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}" + (f" (cmi5 {rule})" if rule else ""))


@dataclass
class Node:
    tag: str  # local name, or "{ns}name" for elements outside the cmi5 namespace
    attrs: dict[str, str]
    line: int | None
    children: list["Node"] = field(default_factory=list)
    text: str = ""


@dataclass(frozen=True)
class Au:
    index: int
    publisher_id: str
    title: str
    description: str
    url: str
    move_on: str
    mastery_score: float | None
    launch_method: str
    launch_parameters: str
    entitlement_key: str
    activity_type: str
    block_path: tuple[int, ...]  # indexes of the enclosing blocks, outermost first


@dataclass(frozen=True)
class Block:
    index: int
    publisher_id: str
    title: str
    description: str
    children: tuple[tuple[str, int], ...]  # ("au", index) or ("block", index), in order


@dataclass(frozen=True)
class CourseStructure:
    publisher_id: str
    title: str
    description: str
    aus: tuple[Au, ...]
    blocks: tuple[Block, ...]
    children: tuple[tuple[str, int], ...]  # the course's direct children

    def to_json(self) -> dict:
        return {
            "publisher_id": self.publisher_id, "title": self.title, "description": self.description,
            "children": [list(c) for c in self.children],
            "blocks": [{"index": b.index, "publisher_id": b.publisher_id, "title": b.title,
                        "description": b.description, "children": [list(c) for c in b.children]}
                       for b in self.blocks],
            "aus": [{"index": a.index, "publisher_id": a.publisher_id, "title": a.title,
                     "description": a.description, "url": a.url, "move_on": a.move_on,
                     "mastery_score": a.mastery_score, "launch_method": a.launch_method,
                     "launch_parameters": a.launch_parameters, "entitlement_key": a.entitlement_key,
                     "activity_type": a.activity_type, "block_path": list(a.block_path)} for a in self.aus],
        }


class _TreeBuilder(xml.sax.ContentHandler):
    def __init__(self):
        super().__init__()
        self.root: Node | None = None
        self.stack: list[Node] = []
        self.locator = None

    def setDocumentLocator(self, locator):
        self.locator = locator

    def startElementNS(self, name, qname, attrs):
        uri, local = name
        tag = local if uri == NS else f"{{{uri or ''}}}{local}"
        # Attributes by local name (adlcp:scormtype, xml:base); an unqualified one wins a clash.
        named = {k[1]: v for k, v in attrs.items() if k[0]}
        node = Node(tag, {**named, **{k[1]: v for k, v in attrs.items() if not k[0]}},
                    self.locator.getLineNumber() if self.locator else None)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def endElementNS(self, name, qname):
        self.stack.pop()

    def characters(self, content):
        if self.stack:
            self.stack[-1].text += content


def parse_tree(data: bytes, file: str = "cmi5.xml") -> Node:
    """Parse XML bytes into nodes; refuse anything that is not plain UTF-8 XML."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise StructureRefused("13.2.0.0-1", "the file is not UTF-8 text", file, line) from None
    head = data[:200].decode("utf-8", "replace").lower()
    match = re.search(r"encoding\s*=\s*[\"']([^\"']+)", head)
    if match and match.group(1) not in ("utf-8", "utf8"):
        raise StructureRefused("13.2.0.0-1", f"the file declares encoding {match.group(1)!r}; only UTF-8 is accepted",
                               file, 1)
    builder = _TreeBuilder()
    parser = defusedxml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_namespaces, True)
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setContentHandler(builder)
    try:
        from io import BytesIO

        source = xml.sax.xmlreader.InputSource()
        source.setByteStream(BytesIO(data))
        parser.parse(source)
    except DefusedXmlException as error:
        raise StructureRefused("13.2.0.0-1", f"DTDs and entities are not allowed ({type(error).__name__})",
                               file, _line_of(parser)) from None
    except xml.sax.SAXParseException as error:
        raise StructureRefused("13.2.0.0-1", f"not well-formed XML: {error.getMessage()}", file,
                               error.getLineNumber()) from None
    if builder.root is None:
        raise StructureRefused("13.2.0.0-1", "the file is empty", file)
    return builder.root


def _line_of(parser) -> int | None:
    try:
        return parser.getLineNumber()
    except Exception:  # the parser may already be closed
        return None


def is_iri(value: str) -> bool:
    """An absolute IRI (cmi5 3.0.0.0-1 / xAPI): a scheme, then no spaces or control characters."""
    return bool(_SCHEME.match(value)) and not re.search(r"[\s<>\"{}|\\^`\x00-\x1f]", value) \
        and len(value) <= 2000 and urlsplit(value).scheme not in ("javascript", "data", "vbscript")


def check_url(value: str) -> bool:
    """A URL as RFC 3986 allows it (cmi5 13.1.4.0-2)."""
    return bool(value) and bool(_URI_CHARS.match(value)) and len(value) <= 2000


def is_absolute_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _text(node: Node | None) -> str:
    if node is None:
        return ""
    strings = [c.text.strip() for c in node.children if c.tag == "langstring" and c.text.strip()]
    return strings[0] if strings else ""


class _Reader:
    def __init__(self, file: str):
        self.file = file
        self.ids: dict[str, str] = {}
        self.aus: list[Au] = []
        self.blocks: list[Block] = []
        self.objectives: set[str] = set()

    def refuse(self, rule: str, message: str, node: Node | None) -> None:
        raise StructureRefused(rule, message, self.file, node.line if node else None)

    def sequence(self, node: Node, expected: list[tuple[str, bool]], repeat_tail: tuple[str, ...] = ()) -> dict:
        """Check children follow the XSD sequence: (name, required) in order, then any number of
        `repeat_tail` elements, then elements of other namespaces (extensions)."""
        found: dict[str, list[Node]] = {}
        position = 0
        for child in node.children:
            if child.tag.startswith("{"):
                if child.tag.startswith("{}"):
                    self.refuse("13.2.0.0-1", f"element <{child.tag[2:]}> is not in the cmi5 namespace", child)
                continue  # extension elements from other namespaces are allowed
            names = [name for name, _ in expected]
            if child.tag in repeat_tail and position >= len(expected):
                found.setdefault(child.tag, []).append(child)
                continue
            if child.tag in names[position:]:
                skipped = names[position:names.index(child.tag, position)]
                for name in skipped:
                    if dict(expected)[name]:
                        self.refuse("13.2.0.0-1", f"<{node.tag}> needs <{name}> before <{child.tag}>", child)
                position = names.index(child.tag, position) + 1
                found[child.tag] = [child]
                continue
            if child.tag in repeat_tail:
                missing = [n for n, req in expected[position:] if req]
                if missing:
                    self.refuse("13.2.0.0-1", f"<{node.tag}> needs <{missing[0]}> before <{child.tag}>", child)
                position = len(expected)
                found.setdefault(child.tag, []).append(child)
                continue
            where = "out of order" if child.tag in names or child.tag in repeat_tail else "not allowed here"
            self.refuse("13.2.0.0-1", f"element <{child.tag}> is {where} in <{node.tag}>", child)
        for name, required in expected:
            if required and name not in found:
                self.refuse("13.2.0.0-1", f"<{node.tag}> is missing <{name}>", node)
        for name in ("title", "description"):
            if name in found and not any(c.tag == "langstring" for c in found[name][0].children):
                self.refuse("13.2.0.0-1", f"<{name}> needs at least one <langstring>", found[name][0])
        return found

    def ident(self, node: Node, kind: str, rule_unique: str) -> str:
        value = node.attrs.get("id", "").strip()
        if not value:
            self.refuse("13.2.0.0-1", f"<{node.tag}> needs an id", node)
        if not is_iri(value):
            self.refuse("3.0.0.0-1", f"the {kind} id {value!r} is not an absolute IRI", node)
        if value in self.ids:
            self.refuse(rule_unique, f"the {kind} id {value!r} is used twice (first by a {self.ids[value]})", node)
        self.ids[value] = kind
        return value

    def objectives_block(self, node: Node) -> None:
        seen: set[str] = set()
        for child in node.children:
            if child.tag != "objective":
                if not child.tag.startswith("{"):
                    self.refuse("13.2.0.0-1", f"element <{child.tag}> is not allowed in <objectives>", child)
                continue
            self.sequence(child, [("title", True), ("description", True)])
            value = child.attrs.get("id", "").strip()
            if not is_iri(value):
                self.refuse("3.0.0.0-1", f"the objective id {value!r} is not an absolute IRI", child)
            if value in seen:
                self.refuse("13.1.3.0-1", f"the objective id {value!r} is used twice", child)
            seen.add(value)
        self.objectives |= seen

    def au(self, node: Node, block_path: tuple[int, ...], xml_only: bool) -> int:
        publisher_id = self.ident(node, "AU", "13.1.4.0-1")
        found = self.sequence(node, [("title", True), ("description", True), ("objectives", False), ("url", True),
                                     ("launchParameters", False), ("entitlementKey", False)])
        url = found["url"][0].text.strip()
        if not check_url(url):
            self.refuse("13.1.4.0-2", f"the AU url {url!r} is not a valid URL", found["url"][0])
        parts = urlsplit(url)
        if parts.scheme and not is_absolute_url(url):
            self.refuse("13.1.4.0-2", f"the AU url {url!r} must be http(s) or a path inside the package",
                        found["url"][0])
        for name, _ in parse_qsl(parts.query, keep_blank_values=True):
            if name in RESERVED_PARAMS:
                self.refuse("8.1.0.0-6", f"the AU url uses the launch parameter {name!r}, which the LMS sets",
                            found["url"][0])
        if not parts.scheme and (url.startswith("/") or parts.netloc):
            self.refuse("14.2.0.0-1" if xml_only else "14.1.0.0-4",
                        f"the AU url {url!r} must be relative to the package root, or a full http(s) address",
                        found["url"][0])
        if xml_only and not parts.scheme:
            self.refuse("14.2.0.0-1", f"the AU url {url!r} is relative, but a course structure uploaded on its own "
                                      "must use absolute URLs", found["url"][0])
        move_on = node.attrs.get("moveOn", "NotApplicable")
        if move_on not in MOVE_ON:
            self.refuse("13.2.0.0-1", f"moveOn {move_on!r} must be one of {', '.join(MOVE_ON)}", node)
        mastery = node.attrs.get("masteryScore")
        score = None
        if mastery is not None:
            try:
                score = float(mastery)
            except ValueError:
                score = -1
            if not 0 <= score <= 1:
                self.refuse("13.2.0.0-1", f"masteryScore {mastery!r} must be a decimal from 0 to 1", node)
        method = node.attrs.get("launchMethod", "AnyWindow")
        if method not in LAUNCH_METHODS:
            self.refuse("13.2.0.0-1", f"launchMethod {method!r} must be AnyWindow or OwnWindow", node)
        for child in found.get("objectives", [Node("", {}, None)])[0].children:
            if child.tag == "objective" and child.attrs.get("idref", "") not in self.objectives:
                self.refuse("13.2.0.0-1", f"objective idref {child.attrs.get('idref')!r} names no objective", child)
        entitlement = found.get("entitlementKey", [None])[0]
        index = len(self.aus)
        self.aus.append(Au(index, publisher_id, _text(found["title"][0]), _text(found["description"][0]), url,
                           move_on, score, method,
                           found["launchParameters"][0].text.strip() if "launchParameters" in found else "",
                           entitlement.text.strip() if entitlement is not None else "",
                           node.attrs.get("activityType", ""), block_path))
        return index

    def children(self, found: dict, block_path: tuple[int, ...], xml_only: bool, node: Node) -> tuple:
        out = []
        items = sorted(found.get("au", []) + found.get("block", []), key=lambda n: (n.line or 0))
        if not items:
            self.refuse("13.2.0.0-1", f"<{node.tag}> needs at least one <au> or <block>", node)
        for item in items:
            if item.tag == "au":
                out.append(("au", self.au(item, block_path, xml_only)))
            else:
                out.append(("block", self.block(item, block_path, xml_only)))
        return tuple(out)

    def block(self, node: Node, block_path: tuple[int, ...], xml_only: bool) -> int:
        publisher_id = self.ident(node, "block", "13.1.2.0-1")
        found = self.sequence(node, [("title", True), ("description", True), ("objectives", False)],
                              repeat_tail=("au", "block"))
        index = len(self.blocks)
        self.blocks.append(None)  # keep document order for indexes; filled below
        children = self.children(found, block_path + (index,), xml_only, node)
        self.blocks[index] = Block(index, publisher_id, _text(found["title"][0]), _text(found["description"][0]),
                                   children)
        return index


def parse_course_structure(data: bytes, xml_only: bool, file: str = "cmi5.xml") -> CourseStructure:
    """Parse and check a course structure; `xml_only` when it came without a package (14.2)."""
    root = parse_tree(data, file)
    reader = _Reader(file)
    if root.tag != "courseStructure":
        reader.refuse("13.2.0.0-1", f"the root element must be <courseStructure> in the namespace {NS}", root)
    found = reader.sequence(root, [("course", True), ("objectives", False)], repeat_tail=("au", "block"))
    course = found["course"][0]
    course_id = reader.ident(course, "course", "13.1.1.0-1")
    course_found = reader.sequence(course, [("title", True), ("description", True)])
    if "objectives" in found:
        reader.objectives_block(found["objectives"][0])
    children = reader.children(found, (), xml_only, root)
    return CourseStructure(course_id, _text(course_found["title"][0]), _text(course_found["description"][0]),
                           tuple(reader.aus), tuple(reader.blocks), children)


__all__ = ["Au", "Block", "CourseStructure", "StructureRefused", "parse_course_structure", "parse_tree",
           "is_iri", "MOVE_ON", "NS"]

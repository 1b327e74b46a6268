"""Read a SCORM 1.2 package's imsmanifest.xml (IMS Content Packaging 1.1.2 with ADL's SCORM 1.2
extensions) with the same hardened parser as cmi5.xml: the launchable items, in organization
order, each with its resource's launch file, mastery score and launch data."""

from __future__ import annotations

from posixpath import normpath
from urllib.parse import urlsplit

from portal.standards.cmi5_xml import Node, StructureRefused, parse_tree

MANIFEST = "imsmanifest.xml"


class ManifestRefused(Exception):
    def __init__(self, message: str, line: int | None = None):
        self.message = f"{MANIFEST}:{line}: {message}" if line else f"{MANIFEST}: {message}"
        super().__init__(self.message)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(node: Node, name: str) -> list[Node]:
    return [c for c in node.children if _local(c.tag) == name]


def _text(node: Node | None) -> str:
    return node.text.strip() if node is not None else ""


def _first(node: Node, name: str) -> Node | None:
    found = _children(node, name)
    return found[0] if found else None


def parse_manifest(data: bytes, files: dict[str, bytes]) -> dict:
    """The package as the portal keeps it: title and its SCOs (and assets) in order."""
    try:
        root = parse_tree(data, MANIFEST)
    except StructureRefused as error:
        raise ManifestRefused(error.message, error.line) from None
    if _local(root.tag) != "manifest":
        raise ManifestRefused("the root element must be <manifest>", root.line)
    metadata = _first(root, "metadata")
    version = _text(_first(metadata, "schemaversion")) if metadata is not None else ""
    if version and version not in ("1.2", "1.1", "1.0"):
        raise ManifestRefused(f"schemaversion {version!r}: only SCORM 1.2 is supported (SCORM 2004 is not)",
                              metadata.line)
    resources_node = _first(root, "resources")
    if resources_node is None:
        raise ManifestRefused("the manifest has no <resources>", root.line)
    base = resources_node.attrs.get("base", "")
    resources: dict[str, Node] = {}
    for resource in _children(resources_node, "resource"):
        ident = resource.attrs.get("identifier", "")
        if not ident:
            raise ManifestRefused("a <resource> has no identifier", resource.line)
        if ident in resources:
            raise ManifestRefused(f"the resource identifier {ident!r} is used twice", resource.line)
        resources[ident] = resource
    organizations = _first(root, "organizations")
    orgs = _children(organizations, "organization") if organizations is not None else []
    default = organizations.attrs.get("default", "") if organizations is not None else ""
    organization = next((o for o in orgs if o.attrs.get("identifier") == default), orgs[0] if orgs else None)
    if organization is None:
        raise ManifestRefused("the manifest has no <organization>", root.line)
    title = _text(_first(organization, "title")) or _text(_first(root, "title"))
    scos: list[dict] = []
    seen: set[str] = set()

    def walk(node: Node) -> None:
        for item in _children(node, "item"):
            ident = item.attrs.get("identifier", "")
            if not ident or ident in seen:
                raise ManifestRefused(f"an item identifier is missing or used twice: {ident!r}", item.line)
            seen.add(ident)
            ref = item.attrs.get("identifierref", "")
            if ref:
                resource = resources.get(ref)
                if resource is None:
                    raise ManifestRefused(f"item {ident!r} refers to a resource {ref!r} that does not exist",
                                          item.line)
                href = resource.attrs.get("href", "")
                if not href:
                    raise ManifestRefused(f"resource {ref!r} has no href to launch", resource.line)
                kind = (resource.attrs.get("scormtype") or resource.attrs.get("scormType") or "asset").lower()
                if kind not in ("sco", "asset"):
                    raise ManifestRefused(f"resource {ref!r} has adlcp:scormtype {kind!r} (sco or asset)",
                                          resource.line)
                path = urlsplit(href)
                if path.scheme:
                    launch = href
                else:
                    joined = normpath(base + resource.attrs.get("base", "") + path.path)
                    if joined.startswith(("../", "/")) or joined not in files:
                        raise ManifestRefused(f"resource {ref!r} launches {href}, which is not in the package",
                                              resource.line)
                    launch = joined + (f"?{path.query}" if path.query else "")
                parameters = item.attrs.get("parameters", "")
                if parameters:
                    parameters = parameters.lstrip("?&")
                    launch += ("&" if "?" in launch else "?") + parameters
                mastery = _text(_first(item, "masteryscore"))
                try:
                    mastery_score = float(mastery) if mastery else None
                except ValueError:
                    raise ManifestRefused(f"item {ident!r} has a masteryscore that is not a number", item.line) from None
                if mastery_score is not None and not 0 <= mastery_score <= 100:
                    raise ManifestRefused(f"item {ident!r} has a masteryscore outside 0-100", item.line)
                scos.append({
                    "index": len(scos), "publisher_id": ident, "title": _text(_first(item, "title")) or ident,
                    "description": "", "url": launch, "scormtype": kind,
                    "move_on": "CompletedOrPassed" if kind == "sco" else "NotApplicable",
                    "mastery_score": mastery_score, "launch_method": "AnyWindow", "launch_parameters": "",
                    "entitlement_key": "", "activity_type": "",
                    "launch_data": _text(_first(item, "datafromlms"))[:4096],
                    "max_time_allowed": _text(_first(item, "maxtimeallowed")),
                    "time_limit_action": _text(_first(item, "timelimitaction")),
                    "block_path": [],
                })
            walk(item)

    walk(organization)
    if not scos:
        raise ManifestRefused("the organization has no item that launches a resource", organization.line)
    return {"publisher_id": root.attrs.get("identifier", ""), "title": title, "description": "",
            "children": [["au", s["index"]] for s in scos], "blocks": [], "aus": scos}

"""YAML read the way a pack author meant it.

PyYAML follows YAML 1.1, which silently turns `0417` into 271 (octal), `1.10` into 1.1,
`No` into False and `2026-02-30` into a crash. This loader keeps each plain scalar's
source text beside its value so that the schema can read ids, approval numbers and
versions as the text the author typed, and can name the scalar when it is ambiguous:

- numbers keep their text (`AuthoredInt`, `AuthoredFloat`; `str()` gives it back);
- a leading-zero or other non-decimal integer (`0417`, `0o17`, `0x1F`, `1_000`, `1:30`)
  stays text, noted;
- only `true`/`false` are booleans; `yes`, `No`, `on`, `OFF` stay text, noted;
- a date that is not in the calendar stays text, noted, for the schema to refuse.
"""

from __future__ import annotations

import re

import yaml

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when libyaml is there
_DECIMAL_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")


class AuthoredText(str):
    """A plain scalar YAML 1.1 would have read as something else; `note` says what."""

    note: str = ""

    def __new__(cls, value: str, note: str = ""):
        text = super().__new__(cls, value)
        text.note = note
        return text


class AuthoredInt(int):
    source: str = ""

    def __new__(cls, value: int, source: str):
        number = super().__new__(cls, value)
        number.source = source
        return number

    def __str__(self) -> str:
        return self.source


class AuthoredFloat(float):
    source: str = ""

    def __new__(cls, value: float, source: str):
        number = super().__new__(cls, value)
        number.source = source
        return number

    def __str__(self) -> str:
        return self.source


class AuthoredLoader(_BASE):
    """A safe loader whose scalars keep the author's text (see the module docstring)."""


def _int(loader, node):
    text = loader.construct_scalar(node)
    if not _DECIMAL_INT.match(text):
        kind = "a leading zero" if re.match(r"^[-+]?0[0-9]", text) else "a form other than plain digits"
        return AuthoredText(text, f"{text} has {kind}; YAML 1.1 tools read it as the number "
                                  f"{yaml.safe_load(text)}")
    return AuthoredInt(int(text.replace("_", "")), text)


def _float(loader, node):
    text = loader.construct_scalar(node)
    try:
        return AuthoredFloat(yaml.SafeLoader.construct_yaml_float(loader, node), text)
    except ValueError:
        return AuthoredText(text, f"{text} is not a number YAML reads the same everywhere")


def _bool(loader, node):
    text = loader.construct_scalar(node)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return AuthoredText(text, f"{text} is a yes/no word that YAML 1.1 tools read as "
                              f"{str(text.lower() in ('yes', 'on')).lower()}")


def _timestamp(loader, node):
    text = loader.construct_scalar(node)
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        return AuthoredText(text, f"{text} is not a day in the calendar")


AuthoredLoader.add_constructor("tag:yaml.org,2002:int", _int)
AuthoredLoader.add_constructor("tag:yaml.org,2002:float", _float)
AuthoredLoader.add_constructor("tag:yaml.org,2002:bool", _bool)
AuthoredLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def load_authored(text: str):
    """The document in `text`, with scalars as described above."""
    return yaml.load(text, Loader=AuthoredLoader)


def compose(text: str):
    """The document's node tree (for line numbers and flow-style checks)."""
    return yaml.compose(text, Loader=AuthoredLoader)


def cut_flow_keys(node, path=()) -> dict[tuple, str]:
    """Keys of flow mappings (`{id: a, text: …}`) that are really the tail of a text cut at a
    comma: a key with a space in it and no value. Maps the key's path to the key."""
    found: dict[tuple, str] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            key_text = getattr(key, "value", "")
            if (node.flow_style and isinstance(key_text, str) and " " in key_text.strip()
                    and isinstance(value, yaml.ScalarNode) and value.value == "" and not value.style):
                found[path + (key_text,)] = key_text
            found.update(cut_flow_keys(value, path + (key_text,)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.update(cut_flow_keys(item, path + (index,)))
    return found

"""YAML front matter codec: text -> (mapping, key lines, body), keeping strings as strings.

`yaml.safe_load` turns `NO` into False, `1.10` into 1.1 and dates into `datetime.date`; our loader
drops the bool, int, float and timestamp implicit resolvers so that every scalar stays the string
it is written as. Line numbers of keys are kept so that every problem can name its line.

Front matter is content anyone can propose, so its cost is bounded before it is built: a size
limit, a nesting limit, and no YAML aliases (`&a` / `*a`), which let 588 bytes expand to 3 GB.
Both are checked on the event stream, before any node is composed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DROPPED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
            "tag:yaml.org,2002:timestamp"}


class StringLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader whose plain scalars are strings (and `null`/`~`/empty are None)."""


StringLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


MAX_FRONT_MATTER = 256 * 1024  # characters of YAML; the largest shipped case has about 12,000
MAX_DEPTH = 8                   # mappings and lists inside each other; the format needs 4


class FrontMatterError(ValueError):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class Document:
    data: dict
    lines: dict[tuple, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1
    duplicate_keys: list[tuple[int, str]] = field(default_factory=list)

    def line(self, *path, default: int | None = None) -> int:
        """Line of the deepest known prefix of `path` (a key, or a list index)."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return default if default is not None else 2


def decode(raw: bytes) -> str:
    """UTF-8 (a byte-order mark is accepted); the error names the line of the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise FrontMatterError(line, f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not UTF-8; "
                                     "save the file as UTF-8") from None


def split(text: str) -> tuple[str, str, int]:
    """(yaml text, body, line of the body's first line). The YAML starts on line 2."""
    if not text.strip():
        raise FrontMatterError(1, "the file is empty; a case study starts with a '---' front-matter block")
    lines = text.splitlines(keepends=True)
    if lines[0].rstrip() != "---":
        raise FrontMatterError(1, "front matter missing: the first line must be '---', followed by "
                                  "YAML keys and a closing '---'")
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip() in ("---", "..."):
            return "".join(lines[1:number - 1]), "".join(lines[number:]), number + 1
    raise FrontMatterError(1, "front matter is not closed: add a '---' line after the YAML keys")


def _walk(node, path: tuple, offset: int, doc: Document) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + offset
            if key in seen:
                doc.duplicate_keys.append((line, ".".join(map(str, path + (key,)))))
            seen.add(key)
            doc.lines[path + (key,)] = line
            _walk(value_node, path + (key,), offset, doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            doc.lines[path + (index,)] = item.start_mark.line + offset
            _walk(item, path + (index,), offset, doc)


_QUOTED_START = re.compile(r"""^\s*(?:-\s+)?(?:[\w-]+:\s+)?(?P<q>["'])""")


def _unclosed_quote(yaml_text: str, upto: int) -> int | None:
    """Index of the first line before `upto` whose quoted value is never closed on that line."""
    for number, line in enumerate(yaml_text.splitlines()[: upto + 1]):
        match = _QUOTED_START.match(line)
        if match:
            rest = line[match.end():]
            quote = match.group("q")
            if quote == '"' and not re.search(r'(?<!\\)"\s*(#.*)?$', rest):
                return number
            if quote == "'" and not re.search(r"'\s*(#.*)?$", rest):
                return number
    return None


def _check_events(yaml_text: str, offset: int) -> None:
    """Refuse aliases and deep nesting, reading only the event stream (linear, nothing built)."""
    depth = 0
    loader = StringLoader(yaml_text)
    try:
        while loader.check_event():
            event = loader.get_event()
            line = event.start_mark.line + offset if event.start_mark else offset
            if isinstance(event, yaml.AliasEvent):
                raise FrontMatterError(line, f"YAML alias '*{event.anchor}' is not allowed in front matter; "
                                             "write the value out in full (aliases can expand without limit)")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise FrontMatterError(line, f"front matter is nested more than {MAX_DEPTH} levels deep here; "
                                                 "the format needs at most 4 (evidence items inside their list)")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    finally:
        loader.dispose()


def parse(text: str) -> Document:
    """Parse a whole case-study file. Raises FrontMatterError with the file line of the problem."""
    yaml_text, body, body_line = split(text)
    offset = 2  # YAML line 0 is file line 2
    if len(yaml_text) > MAX_FRONT_MATTER:
        raise FrontMatterError(offset, f"front matter is {len(yaml_text):,} characters long, more than "
                                       f"{MAX_FRONT_MATTER:,}; move long text into the body")
    loader = StringLoader(yaml_text)
    try:
        _check_events(yaml_text, offset)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + offset if mark else offset
        unclosed = _unclosed_quote(yaml_text, line - offset)
        if unclosed is not None:
            raise FrontMatterError(unclosed + offset, f"YAML syntax error: unclosed quote in "
                                   f"{yaml_text.splitlines()[unclosed].strip()!r}; close the quote on this line") from None
        problem = exc.problem or str(exc)
        if "maximum nesting depth" in problem:   # libyaml's own limit, met before ours
            raise FrontMatterError(line, f"front matter is nested more than {MAX_DEPTH} levels deep here; "
                                         "the format needs at most 4 (evidence items inside their list)") from None
        raise FrontMatterError(line, f"YAML syntax error: {problem}"
                                     f"{' ' + exc.context if exc.context else ''}; "
                                     "check indentation, colons and quotes on this line") from None
    except yaml.YAMLError as exc:
        raise FrontMatterError(offset, f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise FrontMatterError(offset, f"front matter must be a mapping of keys (id: ..., title: ...), not {kind}")
    doc = Document(data=data, body=body, body_line=body_line)
    _walk(node, (), offset, doc)
    return doc

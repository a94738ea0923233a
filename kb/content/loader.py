"""Reads a knowledge-base root: case-study files and the bibliography, into a Collection.

Per-file parsing is pure (bytes in, Case and problems out) so a build can reuse the result of
any file whose content hash has not changed.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Iterable

from .. import checks
from ..checks.case import case_from_document
from ..citations.bibliography import parse_bibliography
from ..errors import ERROR, KbError, Problem
from ..vocabulary import Vocabulary, load_vocabulary
from . import frontmatter
from .collection import Collection, ParsedBibliography, ParsedFile

CASES_DIR = "case_studies"
BIB_FILE = "bibliography.bib"
PARSER_VERSION = "5"  # bump when parsing or per-file checks change, to invalidate build caches
MAX_CASE_BYTES = 1024 * 1024        # the largest shipped case is about 20 KB
MAX_BIB_BYTES = 64 * 1024 * 1024    # 20,000 entries are about 6 MB


def case_paths(root: Path) -> list[Path]:
    base = root / CASES_DIR
    if not base.is_dir():
        raise KbError(f"{base}: no case_studies folder here; run kb in a knowledge-base root or pass --root DIR")
    found = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath) / name for name in sorted(filenames) if name.endswith(".md") and not name.startswith(".")]
    return found


def parse_case_bytes(raw: bytes, path: str, vocab: Vocabulary, sha256: str = "") -> ParsedFile:
    if len(raw) > MAX_CASE_BYTES:
        return ParsedFile(path, sha256, None, [Problem(path, 1, ERROR, "too-large", _too_large(len(raw), MAX_CASE_BYTES,
                                                       "split the case study, or move data tables out of it"))])
    try:
        doc = frontmatter.parse(frontmatter.decode(raw))
    except frontmatter.FrontMatterError as exc:
        return ParsedFile(path, sha256, None, [Problem(path, exc.line, ERROR, "front-matter", exc.message)])
    case, problems = case_from_document(doc, path, vocab)
    case.sha256 = sha256
    return ParsedFile(path, sha256, case, problems)


def _too_large(size: int, limit: int, advice: str) -> str:
    return f"the file is {size:,} bytes, more than the {limit:,} a file may have; {advice}"


def file_hash(raw: bytes, vocab: Vocabulary) -> str:
    digest = hashlib.sha256(raw)
    digest.update(PARSER_VERSION.encode() + vocab.fingerprint().encode())
    return digest.hexdigest()


def load_collection(root: Path, *, cached: dict[str, ParsedFile] | None = None,
                    cached_bib: ParsedBibliography | None = None,
                    progress: Callable[[Iterable], Iterable] = lambda it: it) -> Collection:
    """Read and check every file under root, reusing the parse of any file (or bibliography) whose
    content hash matches an earlier build's: `cached` maps path -> ParsedFile."""

    root = root.resolve()
    vocab = load_vocabulary(root)
    collection = Collection(root=root, vocab=vocab)
    cached = cached or {}
    for path in progress(case_paths(root)):
        rel = path.relative_to(root).as_posix()
        size = path.stat().st_size
        if size > MAX_CASE_BYTES:     # not even read: a huge file must not fill memory
            collection.files.append(ParsedFile(rel, f"too-large:{size}", None, [Problem(
                rel, 1, ERROR, "too-large", _too_large(size, MAX_CASE_BYTES, "split the case study, or move data tables out of it"))]))
            continue
        raw = path.read_bytes()
        sha = file_hash(raw, vocab)
        hit = cached.get(rel)
        collection.files.append(hit if hit and hit.sha256 == sha else parse_case_bytes(raw, rel, vocab, sha))
    bib_path = root / BIB_FILE
    if bib_path.exists() and bib_path.stat().st_size > MAX_BIB_BYTES:
        collection.problems.append(Problem(BIB_FILE, 1, ERROR, "too-large", _too_large(
            bib_path.stat().st_size, MAX_BIB_BYTES, "split it, or remove entries no case cites")))
    elif bib_path.exists():
        raw = bib_path.read_bytes()
        collection.bib_sha256 = hashlib.sha256(raw).hexdigest()
        if cached_bib is not None and cached_bib.sha256 == collection.bib_sha256:
            collection.sources = cached_bib.sources
            collection.problems += cached_bib.problems
        else:
            _parse_bibliography_into(collection, raw)
    else:
        collection.problems.append(Problem(BIB_FILE, 1, ERROR, "bib-missing",
                                           f"{BIB_FILE} is missing; create it (it may be empty) at the root"))
    collection.problems += checks.run("collection", collection)
    return collection


def _parse_bibliography_into(collection: Collection, raw: bytes) -> None:
    try:
        text = frontmatter.decode(raw)
    except frontmatter.FrontMatterError as exc:
        collection.problems.append(Problem(BIB_FILE, exc.line, ERROR, "bib-encoding", exc.message))
    else:
        collection.sources, bib_problems = parse_bibliography(text, BIB_FILE)
        collection.problems += bib_problems

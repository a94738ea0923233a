"""Writing index generations: a fresh one, or hard links of the current one plus changes."""
from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path
from typing import Iterable

import orjson
from whoosh import index as windex

from ..results import IndexDoc
from .schema import schema

FACETS_FILE = "facets.json"


def _patch_whoosh_length_reader() -> None:
    """Whoosh 2.7 looks up a field's length column with a `stat` per posting whenever the field
    has none (ID, NUMERIC, spelling fields), because it caches only the readers it finds; a full
    build spent a fifth of its time there. Cache the misses too."""
    from whoosh.codec import whoosh3

    def cached_reader(self, fieldname, column):
        if fieldname not in self._readers:
            self._readers[fieldname] = (self.column_reader(fieldname, column)
                                        if self.has_column(fieldname) else None)
        return self._readers[fieldname]

    whoosh3.W3PerDocReader._cached_reader = cached_reader


_patch_whoosh_length_reader()


# Memory for each writer process's posting pool. Below about 1 GB the pool spills sorted runs to
# disk and merges them in Python, which made 10,000 documents take 2.8 times as long as 5,000.
POOL_MB = 768


def _merge_small(writer, segments):
    """Merge policy for incremental commits: fold every segment under SMALL_SEGMENT documents
    into the new one, so edits do not leave a trail of tiny segments that each cost every query
    a sub-search."""
    from whoosh.reading import SegmentReader

    kept = []
    for segment in segments:
        if segment.doc_count_all() < SMALL_SEGMENT:
            writer.add_reader(SegmentReader(writer.storage, writer.schema, segment))
        else:
            kept.append(segment)
    return kept


SMALL_SEGMENT = 1000


def _write(ix, docs: Iterable[IndexDoc], removed: Iterable[str], procs: int, incremental: bool) -> None:
    kwargs: dict = {"limitmb": POOL_MB if procs > 1 else 256}
    if procs > 1:
        kwargs.update(procs=procs, multisegment=True)
        gc.freeze()  # the forked writers share the parent's objects: keep their GC from copying them
    writer = ix.writer(**kwargs)
    try:
        for doc_id in removed:
            writer.delete_by_term("id", doc_id)
        for doc in docs:
            (writer.update_document if incremental else writer.add_document)(**doc.fields)
    except BaseException:
        writer.cancel()
        raise
    if incremental:
        writer.commit(mergetype=_merge_small)
    else:
        writer.commit()
    gc.unfreeze()


def build_generation(index_root: Path, generation: str, docs: list[IndexDoc], *,
                     base: str | None = None, removed: Iterable[str] = (), procs: int = 1) -> Path:
    """Write generation `generation`: from scratch, or from `base` plus changes. Returns its path.

    Alongside the index, FACETS_FILE maps each document id to its facet values."""
    target = index_root / generation
    if target.exists():
        shutil.rmtree(target)
    removed = list(removed)
    if base and (index_root / base / FACETS_FILE).exists():
        shutil.copytree(index_root / base, target, copy_function=os.link,
                        ignore=shutil.ignore_patterns("*.lock", "*_LOCK"))
        facets = orjson.loads((target / FACETS_FILE).read_bytes())
        os.unlink(target / FACETS_FILE)
        _write(windex.open_dir(str(target)), docs, removed, procs=1, incremental=True)
    else:
        target.mkdir(parents=True)
        facets = {}
        _write(windex.create_in(str(target), schema()), docs, (), procs=procs, incremental=False)
    for doc_id in removed:
        facets.pop(doc_id, None)
    facets.update((doc.fields["id"], doc.facets) for doc in docs)
    tmp = target / (FACETS_FILE + ".tmp")
    tmp.write_bytes(orjson.dumps(facets))
    os.replace(tmp, target / FACETS_FILE)
    return target


def remove_stale(index_root: Path, keep: set[str]) -> None:
    if index_root.is_dir():
        for child in index_root.iterdir():
            if child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)

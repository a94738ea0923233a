"""kb build: stored rows, incremental rebuilds, atomicity. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from conftest import case_text
from sqlalchemy import select

from kb import storage
from kb.cli import main
from kb.errors import ValidationFailed
from kb.knowledgebase import KnowledgeBase
from kb.storage import build as build_module
from kb.storage.build import build

TWO = {
    "a/first.md": case_text("first", title='"First case about Zürich heroin"'),
    "b/second.md": case_text("second", title='"Second case on cannabis"', themes="[tolerated-cannabis-markets]",
                             body="Body [@roe2015cannabis, ch. 2; @bank2018laundering].\n"),
}


def rows(kb, table):
    with kb.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]


def test_build_stores_cases_evidence_sources_citations(kb_root, db_url):
    root = kb_root(TWO)
    report = build(root)
    assert (report.cases, report.sources, report.parsed, report.full_index) == (2, 3, 2, True)
    kb = KnowledgeBase(root)
    cases = {r["id"]: r for r in rows(kb, storage.cases)}
    assert set(cases) == {"first", "second"}
    assert cases["first"]["title"] == "First case about Zürich heroin"
    assert cases["first"]["period_start"] == 2003 and cases["first"]["period_end"] == 2008
    evidence = rows(kb, storage.evidence_items)
    assert {(e["case_id"], e["id"], e["strength"]) for e in evidence} == {("first", "overdose-deaths", 3), ("second", "overdose-deaths", 3)}
    cites = {(c["case_id"], c["evidence_id"], c["source_key"], c["locator"]) for c in rows(kb, storage.citations)}
    assert ("second", None, "roe2015cannabis", "ch. 2") in cites
    assert ("first", "overdose-deaths", "doe2020policing", "p. 5") in cites
    sources = {s["key"]: s for s in rows(kb, storage.sources)}
    assert sources["doe2020policing"]["title"] == "Policing Open Drug Markets in Zürich"
    assert sources["doe2020policing"]["raw"].startswith("@article{doe2020policing,")
    assert "Z{\\\"u}rich" in sources["doe2020policing"]["raw"]
    themes = {(t["case_id"], t["name"]) for t in rows(kb, storage.case_terms) if t["kind"] == "theme"}
    assert themes == {("first", "police-harm-reduction"), ("second", "tolerated-cannabis-markets")}
    kb.close()


def test_noop_rebuild_parses_nothing(kb_root, db_url):
    root = kb_root(TWO)
    first = build(root)
    again = build(root)
    assert again.noop and again.parsed == 0 and again.generation == first.generation


def test_one_edit_rebuilds_one_case(kb_root, db_url):
    root = kb_root(TWO)
    build(root)
    path = root / "case_studies/a/first.md"
    path.write_text(path.read_text().replace("First case", "Edited case"), encoding="utf-8")
    report = build(root)
    assert (report.parsed, report.changed, report.reindexed, report.full_index) == (1, ["first"], 1, False)
    kb = KnowledgeBase(root)
    assert kb.search("edited").hits[0].id == "first"
    assert kb.search("second").total == 1
    kb.close()


def test_removed_and_renamed_files(kb_root, db_url):
    root = kb_root(TWO)
    build(root)
    (root / "case_studies/b/second.md").unlink()
    (root / "case_studies/a/first.md").rename(root / "case_studies/first.md")
    report = build(root)
    assert report.removed == ["second"] and report.changed == ["first"]
    kb = KnowledgeBase(root)
    assert [r["path"] for r in rows(kb, storage.cases)] == ["case_studies/first.md"]
    assert kb.search("cannabis").total == 0
    kb.close()


def test_failed_validation_keeps_previous_build(kb_root, db_url):
    root = kb_root(TWO)
    build(root)
    (root / "case_studies/a/first.md").write_text(case_text("first", themes="[nope]"), encoding="utf-8")
    with pytest.raises(ValidationFailed) as failure:
        build(root)
    assert any("unknown theme 'nope'" in p.message for p in failure.value.problems)
    kb = KnowledgeBase(root)
    assert kb.search("zürich").hits[0].id == "first"
    kb.close()


def test_crash_during_database_write_keeps_previous_build(kb_root, db_url, monkeypatch):
    root = kb_root(TWO)
    first = build(root)
    (root / "case_studies/b/second.md").write_text(case_text("second", title='"Renamed cannabis"'), encoding="utf-8")

    def die(*args, **kwargs):
        raise KeyboardInterrupt("simulated crash")
    with monkeypatch.context() as patch:
        patch.setattr(build_module, "_write_database", die)
        with pytest.raises(KeyboardInterrupt):
            build(root)
    kb = KnowledgeBase(root)
    assert storage.get_meta(kb.engine, "index_generation") == first.generation
    assert kb.search("second").hits[0].title == "Second case on cannabis"
    if kb.backend.in_database:   # PostgreSQL's search: its rows went with the transaction; no folder
        assert not (kb.data_dir / "index").exists()
    else:
        assert [p.name for p in (kb.data_dir / "index").iterdir()] == [first.generation]
    kb.close()
    assert build(root).changed == ["second"]


def test_running_reader_sees_new_build(kb_root, db_url):
    root = kb_root(TWO)
    build(root)
    kb = KnowledgeBase(root)
    assert kb.search("edited").total == 0
    path = root / "case_studies/a/first.md"
    path.write_text(path.read_text().replace("First case", "Edited case"), encoding="utf-8")
    build(root)
    assert kb.search("edited").total == 1
    kb.close()


def test_cli_build_reports_and_refuses_bad_content(kb_root, runner, db_url):
    root = kb_root(TWO)
    result = runner.invoke(main, ["--root", str(root), "build"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("built 2 cases, 3 sources in ")
    assert "2 changed, 0 removed, 2 indexed (full index)" in result.output
    result = runner.invoke(main, ["--root", str(root), "build"])
    assert result.output.startswith("up to date: 2 cases, 3 sources")
    (root / "case_studies/a/first.md").write_text(case_text("first", country="XX"), encoding="utf-8")
    result = runner.invoke(main, ["--root", str(root), "build"])
    assert result.exit_code == 1
    assert "case_studies/a/first.md:7: error: country 'XX'" in result.output
    assert "Error: validation failed with 1 error(s); the previous build is unchanged" in result.output


def test_data_dir_option_and_env(kb_root, runner, tmp_path, monkeypatch):
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    root = kb_root(TWO)
    data = tmp_path / "elsewhere"
    assert runner.invoke(main, ["--root", str(root), "--data", str(data), "build"]).exit_code == 0
    assert (data / "kb.sqlite3").exists() and not (root / ".kb").exists()
    monkeypatch.setenv("KB_DATA_DIR", str(data))
    result = runner.invoke(main, ["--root", str(root), "stats", "--format", "json"])
    assert '"cases": 2' in result.output


def test_stats(kb_root, runner, db_url):
    root = kb_root({**TWO, "c.md": case_text("c", status="draft")})
    build(root)
    kb = KnowledgeBase(root)
    stats = kb.stats()
    kb.close()
    assert stats["cases"] == 3 and stats["by_status"] == {"published": 2, "draft": 1}
    assert stats["themes"] == {"police-harm-reduction": 2, "tolerated-cannabis-markets": 1}
    assert stats["sources"] == 3 and stats["sources_cited"] == 3 and stats["citation_coverage"] == 1.0


def test_second_build_while_one_runs_is_refused(kb_root, tmp_path):
    import fcntl
    root = kb_root(TWO)
    data = root / ".kb"
    data.mkdir()
    with open(data / "build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(Exception, match="another kb build is running"):
            build(root)


def test_strict_build_refuses_warnings(kb_root, runner, db_url):
    root = kb_root({"sample-case.md": case_text(flavour="x")})
    result = runner.invoke(main, ["--root", str(root), "build", "--strict"])
    assert result.exit_code == 1
    assert "case_studies/sample-case.md:14: warning: unknown key 'flavour'" in result.output
    assert "Error: validation failed with 1 warning(s) (--strict); the previous build is unchanged" in result.output
    assert runner.invoke(main, ["--root", str(root), "build"]).exit_code == 0


def test_bibliography_change_is_picked_up_and_cached(kb_root, db_url):
    root = kb_root(TWO)
    build(root)
    bib = root / "bibliography.bib"
    bib.write_text(bib.read_text().replace("Cannabis Coffeeshops and the Law", "Coffeeshops Revisited")
                   + "\n@article{extra2001, title={No Author}, journal={J}, year={2001}}\n", encoding="utf-8")
    report = build(root)
    assert report.full_index and report.sources == 4
    assert any("entry 'extra2001' (@article) has no author" in p.message for p in report.problems)
    kb = KnowledgeBase(root)
    assert kb.search("revisited").hits[0].id == "second"   # cited source titles are indexed
    assert kb.search("health services").hits[0].id == "first"  # re-indexed from the cache: bodies kept
    kb.close()
    again = build(root)                                     # unchanged: parse taken from the cache
    assert again.noop and any("entry 'extra2001' (@article) has no author" in p.message for p in again.problems)

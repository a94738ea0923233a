"""full-text search in PostgreSQL (kb/search/postgres/), for teams whose hosts share nothing else

On PostgreSQL only (SQLite keeps Whoosh and gets nothing here):
- the extensions `unaccent` and `pg_trgm` (both trusted: the database's owner may create them);
- two text-search configurations: `kb_english` (accents folded by unaccent, then the English
  Snowball stemmer and its stop words) for ranked search, and `kb_words` (accents folded, words
  kept as written) for "did you mean";
- `search_documents`: one row per indexed case, written in the build's own transaction, with a
  weighted tsvector (A title, B summary, C claims, tags, place and country names, D body and the
  cited sources), a smaller one to rank with (the same parts with the body's first 600
  characters, so that ranking thousands of matches does not decompress every body), tsvectors for
  the `sources:` and `country_name:` fields, the keyword fields as
  `field:value` keys, the facet values for counting, and what a result list shows;
- `search_words` (written words, with how many published and how many cases in all have them;
  trigram-indexed) and `search_lexemes` (stems, counted the same way, for more-like-this);
- `search_variants`: the stems of a British and an American spelling of one word found in the
  cases (`decriminalis`, `decrimin`), both ways, so a query in either spelling finds both;
- `search_state`: the generation the rows belong to.

Revision ID: 0011
Revises: 0010
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'kb_english') THEN
    CREATE TEXT SEARCH CONFIGURATION kb_english (COPY = english);
    ALTER TEXT SEARCH CONFIGURATION kb_english
      ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, english_stem;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'kb_words') THEN
    CREATE TEXT SEARCH CONFIGURATION kb_words (COPY = simple);
    ALTER TEXT SEARCH CONFIGURATION kb_words
      ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, simple;
  END IF;
END $$;
CREATE TABLE search_documents (
  case_id varchar(200) PRIMARY KEY,
  draft boolean NOT NULL,
  title text NOT NULL,
  summary text NOT NULL,
  body text NOT NULL,
  shown jsonb NOT NULL,
  facets jsonb NOT NULL,
  facet_terms text[] NOT NULL,
  keys text[] NOT NULL,
  period_start integer NOT NULL,
  updated text NOT NULL,
  tsv tsvector NOT NULL,
  tsv_rank tsvector NOT NULL,
  tsv_sources tsvector NOT NULL,
  tsv_countries tsvector NOT NULL,
  words tsvector NOT NULL
);
CREATE INDEX search_documents_tsv ON search_documents USING gin (tsv);
CREATE INDEX search_documents_keys ON search_documents USING gin (keys);
CREATE INDEX search_documents_sources ON search_documents USING gin (tsv_sources);
CREATE INDEX search_documents_countries ON search_documents USING gin (tsv_countries);
CREATE TABLE search_words (word text PRIMARY KEY, published integer NOT NULL, total integer NOT NULL);
CREATE INDEX search_words_trigrams ON search_words USING gin (word gin_trgm_ops);
CREATE TABLE search_lexemes (lexeme text PRIMARY KEY, published integer NOT NULL, total integer NOT NULL);
CREATE TABLE search_variants (lexeme text NOT NULL, variant text NOT NULL, PRIMARY KEY (lexeme, variant));
CREATE TABLE search_state (generation varchar(64) NOT NULL);
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(UPGRADE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE IF EXISTS search_state; DROP TABLE IF EXISTS search_variants; "
                   "DROP TABLE IF EXISTS search_lexemes; DROP TABLE IF EXISTS search_words; "
                   "DROP TABLE IF EXISTS search_documents; DROP TEXT SEARCH CONFIGURATION IF EXISTS kb_words; "
                   "DROP TEXT SEARCH CONFIGURATION IF EXISTS kb_english")

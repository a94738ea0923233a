-- Formats many independent documents in one pandoc run (kb.citations.styles).
--
-- The input holds one `::: {.document}` div per document: its in-text citations, each in a
-- `::: {.cite}` div, and a `::: {.nocite}` div listing every work its reference list must show.
-- Each document names its own bibliography files (attributes `bibtex` and `csljson`: its works
-- only, read as `pandoc --bibliography` reads them, titles in sentence case where the style wants
-- it), its CSL style (`csl`) and its locale (`lang`, if any). Each document gets its own
-- citeproc run, so year suffixes and "ibid." depend on that document only, as if formatted alone. A note
-- style's footnote is put in place of the citation, so a note style's citations read inline too.

local function inline_note(note)
  return pandoc.Span(pandoc.utils.blocks_to_inlines(note.content), {class = 'note'})
end

local function format_document(document, meta)
  local files = {}
  for _, name in ipairs({'bibtex', 'csljson'}) do
    if document.attributes[name] then table.insert(files, document.attributes[name]) end
  end
  local content, nocite = pandoc.Blocks{}, nil
  for _, block in ipairs(document.content) do
    if block.t == 'Div' and block.classes:includes('nocite') then
      nocite = pandoc.utils.blocks_to_inlines(block.content)
    else
      content:insert(block)
    end
  end
  local options = pandoc.Meta{bibliography = files, csl = document.attributes.csl,
                              lang = document.attributes.lang, ['link-citations'] = false}
  if nocite then options.nocite = nocite end
  local done = pandoc.utils.citeproc(pandoc.Pandoc(content, options))
  return pandoc.Div(done.blocks:walk{Note = inline_note}, pandoc.Attr('', document.classes))
end

function Pandoc(doc)
  local out = pandoc.Blocks{}
  for _, block in ipairs(doc.blocks) do
    if block.t == 'Div' and block.classes:includes('document') then
      out:insert(format_document(block, doc.meta))
    end
  end
  return pandoc.Pandoc(out)
end

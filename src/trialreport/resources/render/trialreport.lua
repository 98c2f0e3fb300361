--[[
trialreport.lua -- Quarto-book semantics for trialreport's builtin render engine.

Run by pandoc on the assembled book (one markdown document). Passes:
  1. numbering: chapters "1", "2", appendices "A", "B"; sections "3.1"; tables and figures
     numbered per chapter ("Table 3.1", "Figure A.2"); captions get the number prefix.
  2. cross-references: @tbl-x, @fig-x, @sec-x become links; unresolved ones become "??"
     and a warning on stderr.
  3. per output format: HTML keeps great_tables' own HTML; docx and typst get real pandoc
     tables (pandoc.read of the HTML) with titles above and footnotes/source notes below;
     landscape sections, page breaks, content-visible / content-hidden.
]]

local stringify = pandoc.utils.stringify
local FMT = FORMAT
local IS_HTML = FMT:match("html") ~= nil
local IS_DOCX = FMT == "docx"
local IS_TYPST = FMT == "typst"
local NBSP = "\u{00A0}"
local LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
local SMALL_TABLE_ROWS = 25

local number_depth = 3
local refs = {}

local function warn(msg)
  io.stderr:write("[trialreport] WARNING: " .. msg .. "\n")
end

local function has_class(el, cls)
  return el.classes ~= nil and el.classes:includes(cls)
end

local function letter(n)
  if n <= #LETTERS then
    return LETTERS:sub(n, n)
  end
  return LETTERS:sub((n - 1) // #LETTERS, (n - 1) // #LETTERS) .. LETTERS:sub((n - 1) % #LETTERS + 1, (n - 1) % #LETTERS + 1)
end

---------------------------------------------------------------------------------------------
-- Pass 0: safety. Text from input files is escaped where it is inserted
-- (trialreport.render.escape.markdown_text); this pass is the second line of defence, run
-- on the parsed book before anything else: no raw block or inline (HTML, typst, OpenXML,
-- LaTeX) reaches a writer (each is shown as literal code, with a warning), links keep only
-- http(s)/mailto schemes or in-document targets, images only relative paths inside the
-- project, and no element keeps an event-handler attribute. The HTML of executed outputs
-- (great_tables) is not in the document at this point: the assembler wrote it to files under
-- media/ and it is loaded afterwards (load_html_outputs).
---------------------------------------------------------------------------------------------
local SAFE_SCHEMES = { http = true, https = true, mailto = true }
local HTML_OUTPUT = "^media/[%w_%-%.]+%.html$"

local function scheme_of(target)
  -- browsers ignore whitespace and control characters inside a URL scheme ("java\tscript:")
  -- (and percent-escapes: the reader writes "java\tscript:" as "java%20script:")
  local decoded = target:gsub("%%(%x%x)", function(h)
    return string.char(tonumber(h, 16))
  end)
  local compact = decoded:gsub("[%c%s]", "")
  local scheme = compact:match("^([%a][%w+.%-]*):")
  return scheme and scheme:lower() or nil
end

local function unsafe_link(target)
  local scheme = scheme_of(target)
  return scheme ~= nil and not SAFE_SCHEMES[scheme]
end

local function unsafe_image(src)
  return scheme_of(src) ~= nil or src:match("^%s*[/\\]") ~= nil or src:match("%.%.") ~= nil
end

local function clean_attributes(el)
  if el.attributes == nil then
    return false
  end
  local changed = false
  local keep = {}
  for k, v in pairs(el.attributes) do
    if k:lower():match("^on") or unsafe_link(v) then
      warn("dropped attribute " .. k .. " (event handler or script URL)")
      changed = true
    else
      keep[k] = v
    end
  end
  if changed then
    el.attributes = keep
  end
  return changed
end

local function is_comment(text)
  return text:match("^%s*<!%-%-.-%-%->%s*$") ~= nil
end

local safety_filter = {
  RawBlock = function(b)
    if (b.format == "html" or b.format == "html5") and is_comment(b.text) then
      return {}
    end
    warn("raw " .. b.format .. " block shown as text (raw output is not passed through)")
    return pandoc.CodeBlock(b.text)
  end,
  RawInline = function(r)
    if (r.format == "html" or r.format == "html5") and is_comment(r.text) then
      return {}
    end
    warn("raw " .. r.format .. " inline shown as text (raw output is not passed through)")
    return pandoc.Code(r.text)
  end,
  Link = function(link)
    clean_attributes(link)
    if unsafe_link(link.target) then
      warn("link to " .. link.target:sub(1, 40) .. " removed (only http, https and mailto)")
      return pandoc.Span(link.content)
    end
    return link
  end,
  Image = function(img)
    clean_attributes(img)
    if unsafe_image(img.src) then
      warn("image " .. img.src:sub(1, 40) .. " removed (only relative paths in the project)")
      return pandoc.Span(img.caption)
    end
    return img
  end,
  Span = function(el) if clean_attributes(el) then return el end end,
  Div = function(el) if clean_attributes(el) then return el end end,
  Code = function(el) if clean_attributes(el) then return el end end,
  CodeBlock = function(el) if clean_attributes(el) then return el end end,
  Header = function(el) if clean_attributes(el) then return el end end,
  Table = function(el) if clean_attributes(el) then return el end end,
  Figure = function(el) if clean_attributes(el) then return el end end,
}

-- The HTML that executed cells displayed (great_tables), written by the assembler to
-- media/*.html and referenced by an empty div: the only raw HTML the book contains.
local function read_file(path)
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local text = f:read("a")
  f:close()
  return text
end

local html_output_filter = {
  Image = function(img)
    -- vector figures for PDF and HTML: the SVG the assembler wrote beside the PNG
    local svg = img.attributes["tr-svg"]
    if svg then
      img.attributes["tr-svg"] = nil
      if not IS_DOCX and svg:match("^media/[%w_%-%.]+%.svg$") then
        img.src = svg
      end
      return img
    end
  end,
  Div = function(div)
    if not has_class(div, "tr-html-output") then
      return nil
    end
    local src = div.attributes["src"] or ""
    local text = src:match(HTML_OUTPUT) and read_file(src) or nil
    if text == nil then
      warn("HTML output " .. src .. " not found")
      return {}
    end
    return pandoc.RawBlock("html", text)
  end,
}

---------------------------------------------------------------------------------------------
-- Pass 1: numbering
---------------------------------------------------------------------------------------------
local state = { kind = "chapter", chapters = 0, appendices = 0, label = nil, sec = {}, tbl = 0, fig = 0 }

local function next_float(kind)
  state[kind] = state[kind] + 1
  if state.label then
    return state.label .. "." .. state[kind]
  end
  return tostring(state[kind])
end

local PREFIX = { tbl = "Table", fig = "Figure" }

-- Word keeps a document alive through fields: captions number themselves (SEQ), cross-refs
-- read the caption or heading they point to (REF to a bookmark), headings take their numbers
-- from the multilevel list that docx_post.py attaches to the heading styles. Every field
-- carries the value computed here as its result, so the file reads right before any update.
local bookmark_serial = 800000
local bookmark_names = {}

local function xml_escape(s)
  return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

local function ox_run(text)
  return '<w:r><w:t xml:space="preserve">' .. xml_escape(text) .. "</w:t></w:r>"
end

local function ox_field(instr, result)
  return '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
    .. '<w:r><w:instrText xml:space="preserve"> ' .. xml_escape(instr) .. " </w:instrText></w:r>"
    .. '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
    .. ox_run(result)
    .. '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
end

-- A Word bookmark name: at most 40 characters of letters, digits and underscores; names that
-- start with "_" are hidden in Word's bookmark dialog, like the "_Ref" names Word makes itself.
local function bookmark_name(id, tag)
  local base = "_Ref" .. tag .. id:gsub("[^%w]", "_"):sub(1, 30)
  local name, k = base, 1
  while bookmark_names[name] do
    k = k + 1
    name = base:sub(1, 36) .. "_" .. k
  end
  bookmark_names[name] = true
  return name
end

local function ox_bookmark(name, inner)
  bookmark_serial = bookmark_serial + 1
  local id = tostring(bookmark_serial)
  return '<w:bookmarkStart w:id="' .. id .. '" w:name="' .. name .. '"/>' .. inner
    .. '<w:bookmarkEnd w:id="' .. id .. '"/>'
end

-- "Table 5.1" as Word fields: the chapter number from the nearest Heading 1 (STYLEREF 1 \s,
-- Word's own chapter-numbered caption) and the number within the chapter (SEQ ... \s 1).
-- Bookmarks: the label with the number (for "Table 5.1" references) and the number alone.
local function docx_caption_label(kind, num, id)
  local chapter, seq = num:match("^(.*)%.(%d+)$")
  -- \s 1 restarts the count at each Heading 1 in Word; LibreOffice ignores that switch, so
  -- the first caption of a chapter also says \r 1 (restart at 1), which both honour
  local restart = (seq or num) == "1" and " \\r 1" or ""
  local seq_field = "SEQ " .. PREFIX[kind] .. restart .. " \\* ARABIC \\s 1"
  local number
  if chapter then
    number = ox_field("STYLEREF 1 \\s", chapter) .. ox_run(".") .. ox_field(seq_field, seq)
  else
    number = ox_field(seq_field, num)
  end
  local label_bm, num_bm = bookmark_name(id, "L"), bookmark_name(id, "N")
  if refs[id] then
    refs[id].bm_label, refs[id].bm_num = label_bm, num_bm
  end
  return pandoc.RawInline("openxml", ox_bookmark(label_bm, ox_run(PREFIX[kind] .. NBSP) .. ox_bookmark(num_bm, number)))
end

local function caption_inlines(kind, num, inlines, id)
  local out
  if IS_DOCX and id then
    out = pandoc.Inlines({ docx_caption_label(kind, num, id) })
  else
    out = pandoc.Inlines({ pandoc.Str(PREFIX[kind] .. NBSP .. num) })
  end
  if inlines and #inlines > 0 then
    out:insert(pandoc.Str(":"))
    out:insert(pandoc.Space())
    out:extend(inlines)
  end
  return out
end

local function header_number(h)
  if h.level == 1 then
    state.sec = {}
    state.tbl, state.fig = 0, 0
    if has_class(h, "unnumbered") or has_class(h, "tr-part") then
      state.label = nil
      if h.identifier ~= "" then
        refs[h.identifier] = { text = stringify(h.content) }
      end
      return nil
    end
    local label, kind
    if state.kind == "appendix" then
      state.appendices = state.appendices + 1
      label, kind = letter(state.appendices), "Appendix"
    else
      state.chapters = state.chapters + 1
      label, kind = tostring(state.chapters), "Chapter"
    end
    state.label = label
    if h.identifier ~= "" then
      -- Word's list number of an appendix heading is "Appendix A" (docx_fields.py)
      refs[h.identifier] = { prefix = kind, num = label, numbered_with_prefix = kind == "Appendix" }
    end
    local shown = label
    if kind == "Appendix" then
      shown = "Appendix " .. label
    end
    return shown
  end
  if has_class(h, "unnumbered") or state.label == nil or h.level > number_depth then
    if h.identifier ~= "" then
      refs[h.identifier] = { text = stringify(h.content) }
    end
    return nil
  end
  for lvl = h.level + 1, 9 do
    state.sec[lvl] = nil
  end
  state.sec[h.level] = (state.sec[h.level] or 0) + 1
  local parts = { state.label }
  for lvl = 2, h.level do
    parts[#parts + 1] = tostring(state.sec[lvl] or 0)
  end
  local num = table.concat(parts, ".")
  if h.identifier ~= "" then
    refs[h.identifier] = { prefix = "Section", num = num }
  end
  return num
end

-- Split a float div's content into (body blocks, caption inlines).
local function float_parts(div)
  local body = pandoc.Blocks({})
  local caption = nil
  for _, b in ipairs(div.content) do
    if b.t == "Div" and has_class(b, "tr-caption") then
      caption = pandoc.utils.blocks_to_inlines(b.content)
    else
      body:insert(b)
    end
  end
  if caption == nil and #body > 1 and body[#body].t == "Para" then
    caption = body[#body].content
    body:remove(#body)
  end
  return body, caption
end

local function float_div(div)
  local kind = div.identifier:match("^(%a+)%-")
  local body, caption = float_parts(div)
  local num = next_float(kind)
  refs[div.identifier] = { prefix = PREFIX[kind], num = num }
  local cap = caption_inlines(kind, num, caption, div.identifier)
  if kind == "tbl" then
    -- pipe tables inside the div lose their own (empty) caption
    body = body:walk({
      Table = function(t)
        t.caption = pandoc.Caption({})
        return t
      end,
    })
    local classes = div.classes:clone()
    classes:insert("tr-table-float")
    return pandoc.Div(
      { pandoc.Div({ pandoc.Para(cap) }, pandoc.Attr("", { "tr-table-caption" })) } .. body,
      pandoc.Attr(div.identifier, classes, div.attributes)
    )
  end
  -- figure: echoed code stays outside the figure, everything else goes inside
  local before, inside = pandoc.Blocks({}), pandoc.Blocks({})
  local alt = div.attributes["fig-alt"] or stringify(caption or {})
  for _, b in ipairs(body) do
    if b.t == "CodeBlock" and has_class(b, "cell-code") then
      before:insert(b)
    elseif b.t == "Figure" then
      inside:extend(b.content)
    else
      inside:insert(b)
    end
  end
  inside = inside:walk({
    Image = function(img)
      if #img.caption == 0 and alt ~= "" then
        img.caption = pandoc.Inlines({ pandoc.Str(alt) })
      end
      return img
    end,
  })
  local fig = pandoc.Figure(inside, { pandoc.Plain(cap) }, pandoc.Attr(div.identifier))
  local attrs = div.attributes
  attrs["fig-alt"] = nil
  return pandoc.Div(before .. { fig }, pandoc.Attr("", div.classes, attrs))
end

local function number_table(t)
  local kind_caption = stringify(t.caption.long)
  if not t.identifier:match("^tbl%-") then
    return nil
  end
  local num = next_float("tbl")
  refs[t.identifier] = { prefix = "Table", num = num }
  local cap = caption_inlines("tbl", num, pandoc.utils.blocks_to_inlines(t.caption.long), t.identifier)
  local id = t.identifier
  t.identifier = ""
  t.caption = pandoc.Caption({})
  local _ = kind_caption
  return pandoc.Div(
    { pandoc.Div({ pandoc.Para(cap) }, pandoc.Attr("", { "tr-table-caption" })), t },
    pandoc.Attr(id, { "tr-table-float" })
  )
end

local number_filter = {
  traverse = "topdown",
  Div = function(div)
    if has_class(div, "tr-chapter-start") then
      state.kind = div.attributes["tr-kind"] or "chapter"
      local part = div.attributes["tr-part"]
      if part and part ~= "" then
        local id = "part-" .. part:lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", "")
        local h = pandoc.Header(1, pandoc.Inlines(part), pandoc.Attr(id, { "unnumbered", "tr-part" }))
        header_number(h)
        return h, false
      end
      return {}, false
    end
    if div.identifier:match("^tbl%-") or div.identifier:match("^fig%-") then
      return float_div(div), false
    end
    return nil
  end,
  Header = function(h)
    local kind = state.kind
    local num = header_number(h)
    if IS_DOCX then
      -- Word numbers headings itself (list numbering); a zero-length marker bookmark tells
      -- docx_post.py which list (chapters or appendices) and the number expected there
      local bm = bookmark_name(h.identifier ~= "" and h.identifier or "sec", "S")
      if h.identifier ~= "" and refs[h.identifier] then
        refs[h.identifier].bm = bm
      end
      local marker = ""
      if num then
        local tag = (kind == "appendix") and "a" or "c"
        marker = ox_bookmark("_TrNum_" .. tag .. "_" .. num:gsub("^Appendix ", ""):gsub("%.", "_"), "")
      end
      local content = pandoc.Inlines({ pandoc.RawInline("openxml", marker .. '<w:bookmarkStart w:id="' .. (bookmark_serial + 1) .. '" w:name="' .. bm .. '"/>') })
      bookmark_serial = bookmark_serial + 1
      content:extend(h.content)
      content:insert(pandoc.RawInline("openxml", '<w:bookmarkEnd w:id="' .. bookmark_serial .. '"/>'))
      h.content = content
      if num then
        h.attributes["number"] = num
      end
      return h, false
    end
    if num then
      local content = pandoc.Inlines({ pandoc.Span(num, pandoc.Attr("", { "header-section-number" })), pandoc.Space() })
      content:extend(h.content)
      h.content = content
      h.attributes["number"] = num
    end
    return h, false
  end,
  Figure = function(fig)
    if fig.identifier:match("^fig%-") then
      local num = next_float("fig")
      refs[fig.identifier] = { prefix = "Figure", num = num }
      fig.caption.long = { pandoc.Plain(caption_inlines("fig", num, pandoc.utils.blocks_to_inlines(fig.caption.long), fig.identifier)) }
      return fig, false
    end
    return nil
  end,
  Table = function(t)
    local r = number_table(t)
    if r then
      return r, false
    end
    return nil
  end,
}

---------------------------------------------------------------------------------------------
-- Pass 2: cross-references
---------------------------------------------------------------------------------------------
-- A cross-reference as a REF field to the bookmark on the caption or heading it names.
local function docx_reference(ref, number_only, text)
  local xml
  if ref.bm_label then
    xml = ox_field("REF " .. (number_only and ref.bm_num or ref.bm_label) .. " \\h", text)
  elseif ref.text then
    xml = ox_field("REF " .. ref.bm .. " \\h", text)
  elseif ref.numbered_with_prefix then
    -- an appendix: its list number already says "Appendix A"; a bare letter is plain text
    if number_only then
      xml = ox_run(ref.num)
    else
      xml = ox_field("REF " .. ref.bm .. " \\w \\t \\h", ref.prefix .. NBSP .. ref.num)
    end
  else
    -- a heading: the typed word, then its list number in full context ("2.1")
    local prefix = number_only and "" or (ref.prefix .. NBSP)
    xml = ox_run(prefix) .. ox_field("REF " .. ref.bm .. " \\w \\t \\h", ref.num)
  end
  return pandoc.RawInline("openxml", xml)
end

local ref_filter = {
  Cite = function(cite)
    local out = pandoc.Inlines({})
    for i, c in ipairs(cite.citations) do
      if i > 1 then
        out:insert(pandoc.Str(","))
        out:insert(pandoc.Space())
      end
      local ref = refs[c.id]
      if #c.prefix > 0 then
        out:extend(c.prefix)
        out:insert(pandoc.Space())
      end
      if ref then
        local text = ref.num
        if ref.text then
          text = ref.text
        elseif c.mode ~= "SuppressAuthor" then
          text = ref.prefix .. NBSP .. ref.num
        end
        if IS_DOCX and (ref.bm_label or ref.bm) then
          out:insert(docx_reference(ref, c.mode == "SuppressAuthor", text))
        else
          out:insert(pandoc.Link(text, "#" .. c.id))
        end
      else
        if c.id:match("^%a+%-") then
          warn("unresolved cross-reference @" .. c.id)
          out:insert(pandoc.Strong(pandoc.Str("??")))
        else
          warn("citation @" .. c.id .. " is not supported (no bibliography)")
          out:insert(pandoc.Str("?@" .. c.id))
        end
      end
      if #c.suffix > 0 then
        out:extend(c.suffix)
      end
    end
    return out
  end,
}

---------------------------------------------------------------------------------------------
-- Pass 3: format-specific output
---------------------------------------------------------------------------------------------
local function raw_typst(text)
  return pandoc.RawBlock("typst", text)
end

local function styled(blocks, style)
  -- docx: custom paragraph style; typst: wrapped in a styled block
  if IS_DOCX then
    return pandoc.Blocks({ pandoc.Div(blocks, pandoc.Attr("", {}, { ["custom-style"] = style })) })
  end
  if IS_TYPST then
    local open = {
      ["Table Caption"] = "#block(sticky: true, above: 1.2em, below: 0.5em)[#set text(weight: \"bold\")",
      ["Table Title"] = "#block(sticky: true, above: 0.4em, below: 0.5em)[#set text(weight: \"bold\")",
      ["Table Subtitle"] = "#block(sticky: true, above: 0.4em, below: 0.6em)[",
      ["Table Note"] = "#block(above: 0.4em, below: 0.3em)[#set text(size: 8pt)",
    }
    local res = pandoc.Blocks({ raw_typst(open[style] or "#block[") })
    res:extend(blocks)
    res:insert(raw_typst("]"))
    return res
  end
  return pandoc.Blocks(blocks)
end

local function cell_align(cell)
  if has_class(cell, "gt_right") then
    return "AlignRight"
  elseif has_class(cell, "gt_center") then
    return "AlignCenter"
  elseif has_class(cell, "gt_left") then
    return "AlignLeft"
  end
  return nil
end

local function strip_cell(cell, strong)
  cell.identifier = ""
  local a = cell_align(cell)
  if a then
    cell.alignment = a
  end
  if strong then
    cell.contents = cell.contents:walk({
      Plain = function(p)
        return pandoc.Plain({ pandoc.Strong(p.content) })
      end,
      Para = function(p)
        return pandoc.Plain({ pandoc.Strong(p.content) })
      end,
    })
  end
  cell.classes = {}
  cell.attributes = {}
  return cell
end

local function count_rows(t)
  local n = #t.head.rows
  for _, body in ipairs(t.bodies) do
    n = n + #body.head + #body.body
  end
  return n
end

-- Move title/subtitle rows and footer rows of an HTML table out of the table.
local function split_table(t, has_caption)
  local ncols = #t.colspecs
  local above, below = pandoc.Blocks({}), pandoc.Blocks({})
  local keep = pandoc.List({})
  local in_titles = true
  for _, row in ipairs(t.head.rows) do
    local c = row.cells[1]
    if in_titles and #row.cells == 1 and c.col_span == ncols and ncols > 1 then
      local inl = pandoc.utils.blocks_to_inlines(c.contents)
      if #inl > 0 then
        local style = "Table Subtitle"
        if has_class(c, "gt_title") then
          style = has_caption and "Table Title" or "Table Caption"
        end
        above:extend(styled({ pandoc.Para(inl) }, style))
      end
    else
      in_titles = false
      keep:insert(row)
    end
  end
  t.head.rows = keep
  if #t.caption.long > 0 then
    above = styled({ pandoc.Para(pandoc.utils.blocks_to_inlines(t.caption.long)) }, has_caption and "Table Title" or "Table Caption") .. above
    t.caption = pandoc.Caption({})
  end
  -- footnotes first, then source notes (CSR order); great_tables emits them the other way
  local footnotes, sources = pandoc.Blocks({}), pandoc.Blocks({})
  for _, row in ipairs(t.foot.rows) do
    for _, c in ipairs(row.cells) do
      local inl = pandoc.utils.blocks_to_inlines(c.contents)
      if #inl > 0 then
        if has_class(c, "gt_sourcenote") or has_class(row, "gt_sourcenotes") then
          sources:insert(pandoc.Para(inl))
        else
          footnotes:insert(pandoc.Para(inl))
        end
      end
    end
  end
  local notes = footnotes .. sources
  t.foot.rows = {}
  -- rows of <th> cells at the top of a <tbody> (great_tables row-group headings) are read
  -- as intermediate body heads; make them ordinary (group) rows
  for _, body in ipairs(t.bodies) do
    if #body.head > 0 then
      local rows = pandoc.List({})
      rows:extend(body.head)
      rows:extend(body.body)
      body.body = rows
      body.head = {}
    end
  end
  if #notes > 0 then
    below:extend(styled(notes, "Table Note"))
  end
  -- column alignment from the first full body row (great_tables: gt_left/gt_right/gt_center)
  for _, body in ipairs(t.bodies) do
    for _, row in ipairs(body.body) do
      if #row.cells == ncols then
        for i, c in ipairs(row.cells) do
          local a = cell_align(c)
          if a then
            t.colspecs[i] = { a, t.colspecs[i][2] }
          end
        end
        goto aligned
      end
    end
  end
  ::aligned::
  for r, row in ipairs(t.head.rows) do
    for _, c in ipairs(row.cells) do
      strip_cell(c, true)
      if IS_TYPST and r < #t.head.rows and c.col_span > 1 then
        -- spanner label: underline it across the columns it spans
        local content = pandoc.Inlines({
          pandoc.RawInline("typst", "#block(width: 100%, stroke: (bottom: 0.5pt), inset: (bottom: 3pt))["),
        })
        content:extend(pandoc.utils.blocks_to_inlines(c.contents))
        content:insert(pandoc.RawInline("typst", "]"))
        c.contents = { pandoc.Plain(content) }
      end
    end
  end
  for _, body in ipairs(t.bodies) do
    for _, row in ipairs(body.body) do
      local group = #row.cells == 1 and row.cells[1].col_span == ncols and ncols > 1
      for _, c in ipairs(row.cells) do
        strip_cell(c, group)
        if group then
          c.alignment = "AlignLeft"
        end
      end
    end
    body.row_head_columns = 0
  end
  t.identifier = ""
  t.classes = {}
  t.attributes = {}
  return above, t, below
end

-- Convert raw HTML (a great_tables / pandas table) into pandoc blocks for docx/typst.
local function html_to_blocks(raw, has_caption)
  local ok, doc = pcall(pandoc.read, raw, "html")
  if not ok then
    warn("could not convert an HTML output: " .. tostring(doc))
    return pandoc.Blocks({})
  end
  doc = doc:walk({
    Span = function(span)
      if has_class(span, "gt_footnote_marks") then
        return pandoc.Superscript(span.content)
      end
      return nil
    end,
  })
  local out = pandoc.Blocks({})
  local function collect(blocks)
    for _, b in ipairs(blocks) do
      if b.t == "Table" then
        local above, t, below = split_table(b, has_caption)
        local n = count_rows(t)
        local inner = above .. { t } .. below
        if IS_TYPST and n <= SMALL_TABLE_ROWS then
          out:insert(raw_typst("#block(breakable: false, width: 100%)["))
          out:extend(inner)
          out:insert(raw_typst("]"))
        else
          out:extend(inner)
        end
        has_caption = true
      elseif b.t == "Div" then
        collect(b.content)
      elseif b.t == "Plain" or b.t == "Para" then
        local only_raw = true
        for _, i in ipairs(b.content) do
          if i.t ~= "RawInline" and i.t ~= "Space" and i.t ~= "SoftBreak" and i.t ~= "LineBreak" then
            only_raw = false
          end
        end
        if not only_raw then
          out:insert(b)
        end
      elseif b.t ~= "RawBlock" then
        out:insert(b)
      end
    end
  end
  collect(doc.blocks)
  return out
end

local function is_html_raw(b)
  return b.t == "RawBlock" and (b.format == "html" or b.format == "html5")
end

local function convert_raw_html(blocks, has_caption)
  local out = pandoc.Blocks({})
  for _, b in ipairs(blocks) do
    if is_html_raw(b) then
      out:extend(html_to_blocks(b.text, has_caption))
    else
      out:insert(b)
    end
  end
  return out
end

local function table_float(div)
  local caption_div = div.content[1]
  local body = pandoc.Blocks({})
  for i = 2, #div.content do
    body:insert(div.content[i])
  end
  if IS_HTML then
    return nil
  end
  local cap_blocks = styled(caption_div.content, "Table Caption")
  -- pandoc Tables from the markdown itself also need a caption/notes layout
  local converted = pandoc.Blocks({})
  for _, b in ipairs(body) do
    if is_html_raw(b) then
      converted:extend(html_to_blocks(b.text, true))
    elseif b.t == "Div" and has_class(b, "cell") then
      converted:extend(convert_raw_html(b.content, true))
    else
      converted:insert(b)
    end
  end
  local content
  if IS_TYPST then
    local rows = 0
    converted:walk({
      Table = function(t)
        rows = rows + count_rows(t)
      end,
    })
    if rows <= SMALL_TABLE_ROWS then
      content = pandoc.Blocks({ raw_typst("#block(breakable: false, width: 100%)[") })
      content:extend(cap_blocks)
      -- nested unbreakable blocks are harmless
      content:extend(converted)
      content:insert(raw_typst("]"))
    else
      content = cap_blocks .. converted
    end
  else
    content = cap_blocks .. converted
  end
  div.content = content
  return div
end

local function landscape(blocks)
  if IS_DOCX then
    local function sect(orient)
      local size
      if orient == "landscape" then
        size = '<w:pgSz w:w="16838" w:h="11906" w:orient="landscape"/>'
      else
        size = '<w:pgSz w:w="11906" w:h="16838"/>'
      end
      return pandoc.RawBlock(
        "openxml",
        '<w:p><w:pPr><w:sectPr>' .. size
          .. '<w:pgMar w:top="1417" w:right="1247" w:bottom="1247" w:left="1247" w:header="567" w:footer="567" w:gutter="0"/>'
          .. "</w:sectPr></w:pPr></w:p>"
      )
    end
    local out = pandoc.Blocks({ sect("portrait") })
    out:extend(blocks)
    out:insert(sect("landscape"))
    return out
  elseif IS_TYPST then
    local out = pandoc.Blocks({ raw_typst("#page(flipped: true)[") })
    out:extend(blocks)
    out:insert(raw_typst("]"))
    return out
  end
  return nil
end

local function format_matches(spec)
  if spec == nil then
    return nil
  end
  for name in spec:gmatch("[^%s,]+") do
    if name == "html" and IS_HTML then
      return true
    elseif name == "docx" and IS_DOCX then
      return true
    elseif (name == "typst" or name == "pdf") and IS_TYPST then
      return true
    end
  end
  return false
end

-- A table is too wide for a portrait page when its columns' narrowest widths, plus cell
-- padding, add up to more than a 9 pt line across the portrait text width: such tables go on a
-- landscape page. A column's narrowest width is its longest word, except that centred (numeric)
-- cells never wrap ("12 (100%)", "-6.8 (-37.9, 26.8)" count whole) and the first (label) column
-- keeps at least STUB_CHARS, so that labels do not wrap word by word.
local PORTRAIT_CHARS = 95
local STUB_CHARS = 24
local function centred(t, col)
  local spec = t.colspecs[col]
  return spec ~= nil and (spec[1] == "AlignCenter" or spec.alignment == "AlignCenter")
end
local function min_table_chars(t)
  local n = #t.colspecs
  local w = {}
  local longest = {}
  for i = 1, n do
    w[i] = 0
    longest[i] = 0
  end
  local function scan(rows)
    for _, row in ipairs(rows) do
      local col = 1
      for _, c in ipairs(row.cells) do
        if c.col_span == 1 and col <= n then
          local text = stringify(c.contents)
          local whole = utf8.len(text) or #text
          longest[col] = math.max(longest[col], whole)
          if centred(t, col) then
            w[col] = math.max(w[col], whole)
          else
            for word in text:gmatch("%S+") do
              w[col] = math.max(w[col], utf8.len(word) or #word)
            end
          end
        end
        col = col + c.col_span
      end
    end
  end
  for _, body in ipairs(t.bodies) do
    scan(body.head)
    scan(body.body)
  end
  -- headers may wrap at their words
  for _, row in ipairs(t.head.rows) do
    local col = 1
    for _, c in ipairs(row.cells) do
      if c.col_span == 1 and col <= n then
        for word in stringify(c.contents):gmatch("%S+") do
          w[col] = math.max(w[col], utf8.len(word) or #word)
        end
      end
      col = col + c.col_span
    end
  end
  if n > 0 then
    w[1] = math.max(w[1], math.min(longest[1], STUB_CHARS))
  end
  local total = 0
  for i = 1, n do
    total = total + w[i] + 2
  end
  return total
end

--- Centred (numeric) body cells must not wrap inside a number ("12 (100%)" on one line): their
--- spaces become no-break spaces in Word and PDF (HTML tables keep their own CSS).
local function keep_numbers_whole(blocks)
  return pandoc.Blocks(blocks):walk({
    Table = function(t)
      local function fix(rows)
        for _, row in ipairs(rows) do
          local col = 1
          for _, c in ipairs(row.cells) do
            if c.col_span == 1 and centred(t, col) then
              c.contents = pandoc.Blocks(c.contents):walk({
                Space = function()
                  return pandoc.Str(NBSP)
                end,
              })
            end
            col = col + c.col_span
          end
        end
      end
      for _, body in ipairs(t.bodies) do
        fix(body.body)
      end
      return t
    end,
  })
end

local function too_wide(blocks)
  local wide = false
  pandoc.Blocks(blocks):walk({
    Table = function(t)
      if min_table_chars(t) > PORTRAIT_CHARS then
        wide = true
      end
    end,
  })
  return wide
end

local in_landscape = false
--- Text of the paragraph the Word post-processor replaces with the table of contents.
TOC_MARKER = "TRIALREPORT-TOC-HERE"
TOC_PLACED = false
TOC_DEPTH = "2"

local format_filter
format_filter = {
  traverse = "topdown",
  Div = function(div)
    if has_class(div, "landscape") then
      div.classes = div.classes:filter(function(c)
        return c ~= "landscape"
      end)
      local was = in_landscape
      in_landscape = true
      local inner = pandoc.Blocks({ div }):walk(format_filter)
      in_landscape = was
      return landscape(inner) or inner, false
    end
    if has_class(div, "content-visible") or has_class(div, "content-hidden") then
      local when = format_matches(div.attributes["when-format"])
      local unless = format_matches(div.attributes["unless-format"])
      local visible
      if has_class(div, "content-visible") then
        visible = not (when == false or unless == true)
      else
        visible = not ((when == nil and unless == nil) or when == true or unless == false)
      end
      if not visible then
        return {}, false
      end
      return pandoc.Blocks(div.content):walk(format_filter), false
    end
    if has_class(div, "trialreport-toc") then
      -- the table of contents goes here (after the title page and synopsis, ICH E3) instead
      -- of at the start; HTML keeps its side-bar contents
      TOC_PLACED = true
      if IS_DOCX then
        return pandoc.RawBlock("openxml", '<w:p><w:r><w:t>' .. TOC_MARKER .. '</w:t></w:r></w:p>'), false
      elseif IS_TYPST then
        return raw_typst("#pagebreak(weak: true)\n#outline(title: [Table of Contents], depth: "
          .. TOC_DEPTH .. ", indent: auto)\n#pagebreak(weak: true)"), false
      end
      return {}, false
    end
    if has_class(div, "tr-pagebreak") then
      if IS_DOCX then
        return pandoc.RawBlock("openxml", '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'), false
      elseif IS_TYPST then
        return raw_typst("#pagebreak(weak: true)"), false
      end
      return pandoc.RawBlock("html", '<div class="page-break"></div>'), false
    end
    if has_class(div, "tr-table-float") then
      local float = table_float(div) or div
      if not IS_HTML then
        float.content = keep_numbers_whole(float.content)
      end
      if not IS_HTML and not in_landscape and too_wide(float.content) then
        return landscape(pandoc.Blocks({ float })) or float, false
      end
      return float, false
    end
    if has_class(div, "cell") and IS_HTML then
      -- headings written by a cell (the data specification) belong to the document outline:
      -- pandoc's table of contents skips headings nested in divs
      for _, b in ipairs(div.content) do
        if b.t == "Header" then
          return pandoc.Blocks(div.content):walk(format_filter), false
        end
      end
      return nil
    end
    if has_class(div, "cell") and not IS_HTML then
      div.content = convert_raw_html(div.content, false)
      return div, false
    end
    return nil
  end,
  RawBlock = function(b)
    if not IS_HTML and is_html_raw(b) and b.text:match("<table") then
      return html_to_blocks(b.text, false), false
    end
    return nil
  end,
}

-- Relative column widths from the text each column holds, so that tables span the text
-- width with sensible proportions in docx and typst.
local function text_len(s)
  return utf8.len(s) or #s
end

local function set_widths(t)
  local n = #t.colspecs
  if n == 0 then
    return
  end
  for _, cs in ipairs(t.colspecs) do
    if cs[2] ~= nil and cs[2] > 0 then
      return
    end
  end
  local w = {}
  for i = 1, n do
    w[i] = 0
  end
  local function scan(rows, is_head)
    local pending = {}
    for _, row in ipairs(rows) do
      local col = 1
      for _, c in ipairs(row.cells) do
        while (pending[col] or 0) > 0 do
          col = col + 1
        end
        if c.col_span == 1 and col <= n then
          local s = stringify(c.contents)
          local len = text_len(s)
          if is_head then
            local longest = 0
            for word in s:gmatch("%S+") do
              longest = math.max(longest, text_len(word))
            end
            len = math.max(longest, math.ceil(len / 2))
          end
          w[col] = math.max(w[col], len)
        end
        if c.row_span > 1 then
          for k = col, col + c.col_span - 1 do
            pending[k] = c.row_span
          end
        end
        col = col + c.col_span
      end
      for k, v in pairs(pending) do
        pending[k] = v - 1
      end
    end
  end
  scan(t.head.rows, true)
  for _, body in ipairs(t.bodies) do
    scan(body.head, false)
    scan(body.body, false)
  end
  local total = 0
  for i = 1, n do
    w[i] = math.min(math.max(w[i], 3), 40) + 2
    total = total + w[i]
  end
  for i = 1, n do
    t.colspecs[i] = { t.colspecs[i][1], w[i] / total }
  end
end

local function is_strong(cell)
  local first = cell.contents[1]
  return first ~= nil and (first.t == "Plain" or first.t == "Para") and #first.content == 1 and first.content[1].t == "Strong"
end

-- Characters of 9 pt table text across the portrait text width (about 6.3 in).
local LINE_CHARS = 95
-- Row labels get at least the width that holds their longest label on two lines (up to a
-- third of the line), taken from the other columns in proportion.
local function widen_label_column(t)
  local n = #t.colspecs
  if n < 3 then
    return
  end
  local longest = 0
  for _, body in ipairs(t.bodies) do
    for _, row in ipairs(body.body) do
      local c = row.cells[1]
      if c and c.col_span == 1 then
        local text = stringify(c.contents):gsub("^[%s" .. NBSP .. "]+", "")
        longest = math.max(longest, text_len(text))
      end
    end
  end
  local want = math.min(math.ceil(longest / 2) + 3, LINE_CHARS // 3) / LINE_CHARS
  local have = t.colspecs[1][2]
  if have == nil or have <= 0 or have >= want then
    return
  end
  local scale = (1 - want) / (1 - have)
  t.colspecs[1] = { t.colspecs[1][1], want }
  for i = 2, n do
    t.colspecs[i] = { t.colspecs[i][1], t.colspecs[i][2] * scale }
  end
end

-- Indentation made of leading no-break spaces (great_tables indents row labels that way)
-- becomes a real left indent in typst, so that a wrapped label continues under its text.
local function indent_labels(t)
  if not IS_TYPST then
    return
  end
  for _, body in ipairs(t.bodies) do
    for _, row in ipairs(body.body) do
      local c = row.cells[1]
      local first = c and c.contents[1]
      if first and (first.t == "Plain" or first.t == "Para") and first.content[1]
          and first.content[1].t == "Str" then
        local str = first.content[1].text
        local lead = str:match("^[" .. NBSP .. "]+")
        if lead then
          local k = utf8.len(lead) or 1
          first.content[1] = pandoc.Str(str:sub(#lead + 1))
          local blocks = pandoc.Blocks({ raw_typst(string.format("#pad(left: %.2fem)[", k * 0.28)) })
          blocks:extend(c.contents)
          blocks:insert(raw_typst("]"))
          c.contents = blocks
        end
      end
    end
  end
end

local finish_filter = {
  Table = function(t)
    set_widths(t)
    widen_label_column(t)
    indent_labels(t)
    for _, row in ipairs(t.head.rows) do
      for _, c in ipairs(row.cells) do
        if not is_strong(c) then
          strip_cell(c, true)
        end
      end
    end
    return t
  end,
}

local function typst_escape(text)
  return (text:gsub("([\\#%[%]%*_%$@<>`~=%-/])", "\\%1"))
end

local part_filter = {
  Header = function(h)
    if has_class(h, "tr-part") and IS_TYPST then
      return raw_typst("#heading(level: 1, numbering: none, supplement: [Part])[" .. typst_escape(stringify(h.content)) .. "]")
    end
    return nil
  end,
}

---------------------------------------------------------------------------------------------
-- Typography for every format: one minus sign (U+2212) in numbers, and a label stays on the
-- line of its number ("Table 14.2.1", "Section 2.1" never break between word and number).
---------------------------------------------------------------------------------------------
local MINUS = "\u{2212}"
local NUMBER_WORDS = { Table = true, Figure = true, Listing = true, Section = true,
  Appendix = true, Chapter = true, Tables = true, Figures = true, Listings = true }

local function minus_text(s)
  -- a hyphen-minus before a digit at the start of a word or after "(", "[", "=" or a space;
  -- not inside words, codes or dates ("2012-03-05", "ALEVIATE-001", "18-60")
  s = s:gsub("^%-(%d)", MINUS .. "%1")
  s = s:gsub("([%s%(%[=])%-(%d)", "%1" .. MINUS .. "%2")
  return s
end

-- the same inside the text of raw HTML outputs (great_tables), outside <style> and <script>
local function minus_html(html)
  local out, pos = {}, 1
  while pos <= #html do
    local s, e = html:find("<st" .. "yle.-</style>", pos)
    local s2, e2 = html:find("<script.-</script>", pos)
    if s2 and (not s or s2 < s) then
      s, e = s2, e2
    end
    local chunk = s and html:sub(pos, s - 1) or html:sub(pos)
    chunk = chunk:gsub(">([^<]+)", function(t)
      return ">" .. minus_text(t)
    end)
    out[#out + 1] = chunk
    if not s then
      break
    end
    out[#out + 1] = html:sub(s, e)
    pos = e + 1
  end
  return table.concat(out)
end

local typography_filter = {
  Str = function(el)
    local t = minus_text(el.text)
    if t ~= el.text then
      return pandoc.Str(t)
    end
  end,
  Inlines = function(inlines)
    local i = 1
    while i <= #inlines - 2 do
      local a, sp, b = inlines[i], inlines[i + 1], inlines[i + 2]
      if a.t == "Str" and sp.t == "Space" and b.t == "Str" then
        local word = a.text:match("(%a+)$")
        if word and NUMBER_WORDS[word] and (b.text:match("^%d") or b.text:match("^%u[%.%d]")
            or b.text:match("^%u$") or b.text:match("^%u[%),;:]")) then
          inlines[i] = pandoc.Str(a.text .. NBSP .. b.text)
          inlines:remove(i + 1)
          inlines:remove(i + 1)
          i = i - 1
        end
      end
      i = i + 1
    end
    return inlines
  end,
  RawBlock = function(b)
    if IS_HTML and b.format == "html" then
      b.text = minus_html(b.text)
      return b
    end
  end,
}

-- The builtin engine's HTML: each table's HTML goes to <folder>/<n>.html and a comment stands in
-- its place, which the engine replaces after pandoc. pandoc's --embed-resources re-parses every
-- byte of the page, and the tables are most of them while holding no resource to embed.
-- (Comments in the chapters were removed by the safety pass: no placeholder comes from input.)
local function defer_html_outputs(doc, folder)
  local count = 0
  return doc:walk({
    RawBlock = function(b)
      if (b.format == "html" or b.format == "html5") and b.text:match("<table") then
        count = count + 1
        local f = assert(io.open(folder .. "/" .. count .. ".html", "wb"))
        f:write(b.text)
        f:close()
        return pandoc.RawBlock("html", "<!--trialreport-deferred-html:" .. count .. "-->")
      end
    end,
  })
end

---------------------------------------------------------------------------------------------
function Pandoc(doc)
  local depth = doc.meta["tr-number-depth"]
  if depth then
    number_depth = tonumber(stringify(depth)) or number_depth
  end
  if doc.meta.version and not IS_TYPST then
    -- the typst title page shows the version itself; elsewhere it goes with the date
    local line = pandoc.Inlines({ pandoc.Str("Version" .. NBSP .. stringify(doc.meta.version)) })
    if doc.meta.date then
      line:insert(pandoc.Str(" · "))
      line:extend(pandoc.Inlines(stringify(doc.meta.date)))
    end
    doc.meta.date = pandoc.MetaInlines(line)
  end
  doc = doc:walk(safety_filter)
  doc = doc:walk(html_output_filter)
  doc = doc:walk(typography_filter)
  doc = doc:walk(number_filter)
  doc = doc:walk(ref_filter)
  if doc.meta["toc-depth"] then
    TOC_DEPTH = stringify(doc.meta["toc-depth"])
  end
  doc = doc:walk(format_filter)
  if TOC_PLACED then
    doc.meta["tr-toc-placed"] = true
  end
  local deferred = doc.meta["tr-deferred-html"]
  if IS_HTML and deferred then
    doc = defer_html_outputs(doc, stringify(deferred))
  end
  if not IS_HTML then
    -- tables read from HTML outputs are pandoc text only now: same typography for them
    doc = doc:walk(typography_filter)
    doc = doc:walk(finish_filter)
    doc = doc:walk(part_filter)
  end
  if IS_TYPST then
    -- PDF document properties are typst strings, not markup: pass them as string literals
    local block = doc.meta.trialreport
    local function typst_string(text)
      return '"' .. text:gsub("[%c]", " "):gsub("\\", "\\\\"):gsub('"', '\\"') .. '"'
    end
    local sponsor = block and block.sponsor and stringify(block.sponsor) or ""
    local keywords = {}
    for _, key in ipairs({ "study", "registration" }) do
      if block and block[key] then
        keywords[#keywords + 1] = typst_string(stringify(block[key]))
      end
    end
    doc.meta["tr-pdf-author"] = pandoc.MetaInlines({ pandoc.RawInline("typst", typst_string(sponsor)) })
    doc.meta["tr-pdf-keywords"] = pandoc.MetaInlines({ pandoc.RawInline("typst", "(" .. table.concat(keywords, ", ") .. (#keywords == 1 and "," or "") .. ")") })
    doc.meta["tr-pdf-title"] = pandoc.MetaInlines({ pandoc.RawInline("typst", typst_string(stringify(doc.meta.title or ""))) })
  end
  return doc
end

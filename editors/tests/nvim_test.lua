-- Headless Neovim test of editors/nvim against the real server.
--   nvim --headless --clean -l nvim_test.lua PLUGIN_DIR THREATLENS_BIN EXAMPLE_DIR
-- EXAMPLE_DIR is a scratch copy of threat-models/examples/rag-chatbot (the quick fix and the
-- diagram check edit buffers; nothing is written). Prints one line per check; exits 1 on the first failure.

local plugin_dir, bin, root = arg[1], arg[2], arg[3]
local TIMEOUT = 20000
local failures, passes = 0, 0
local fallback = os.getenv('THREATLENS_NVIM_FALLBACK') == '1'

local function say(...)
  io.stdout:write(table.concat({ ... }, ' '), '\n')
end

local function check(ok, what, detail)
  if ok then
    passes = passes + 1
    say('ok  ', what)
  else
    failures = failures + 1
    say('FAIL', what, detail and ('-- ' .. detail) or '')
  end
  return ok
end

local function finish()
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop()
  end
  vim.wait(2000, function() return #vim.lsp.get_clients() == 0 end, 50)
  say(string.format('nvim%s: %d passed, %d failed', fallback and ' (vim.lsp.start fallback)' or '', passes, failures))
  os.exit(failures == 0 and 0 or 1)
end

vim.opt.rtp:prepend(plugin_dir)
vim.cmd('filetype on')
if fallback then
  -- Exercise the Neovim < 0.11 path (FileType autocommand + vim.lsp.start).
  vim.lsp.enable = nil
end
-- `ignore` checks that settings reach the server: TL305 (unpinned SentenceTransformer in
-- services/embedder/server.py) must not be reported.
require('threatlens').setup({ cmd = { bin, 'lsp' }, settings = { debounceMs = 0, ignore = { 'TL305' } } })

local function open(rel)
  vim.cmd.edit(vim.fs.joinpath(root, rel))
  return vim.api.nvim_get_current_buf()
end

local function client_of(buf)
  return vim.lsp.get_clients({ bufnr = buf, name = 'threatlens' })[1]
end

local function diagnostics(buf)
  return vim.diagnostic.get(buf)
end

--- Waits for the diagnostics of `buf` to equal the set `expected` ("CODE@lnum" strings).
local function expect_diagnostics(buf, rel, expected)
  local want = table.concat(expected, ' ')
  local got = ''
  vim.wait(TIMEOUT, function()
    local items = {}
    for _, d in ipairs(diagnostics(buf)) do
      if d.source == 'threatlens' then
        table.insert(items, string.format('%s@%d', d.code, d.lnum + 1))
      end
    end
    table.sort(items)
    got = table.concat(items, ' ')
    return got == want
  end, 50)
  return check(got == want, rel .. ': diagnostics ' .. want, 'got: ' .. got)
end

local function attached(buf, rel, should)
  vim.wait(should and TIMEOUT or 1000, function() return client_of(buf) ~= nil end, 50)
  return check((client_of(buf) ~= nil) == should, rel .. (should and ': client attached' or ': no client attached'))
end

-- 1. Python: the quick fix for TL301 (trust_remote_code=True), through vim.lsp.buf.code_action
--    as a user runs it, then the re-published diagnostics.
do
  local rel = 'pipelines/finetune/train.py'
  local buf = open(rel)
  if not attached(buf, rel, true) then finish() end
  expect_diagnostics(buf, rel, { 'TL301@15', 'TL811@24' })
  local d = vim.tbl_filter(function(x) return x.code == 'TL301' end, diagnostics(buf))[1]
  check(d and d.source == 'threatlens' and d.severity == vim.diagnostic.severity.ERROR,
    rel .. ': TL301 is an error from source threatlens', vim.inspect(d and { d.source, d.severity }))
  vim.api.nvim_win_set_cursor(0, { 15, 12 })
  local titles = {}
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      table.insert(titles, action.title)
      return action.kind == 'quickfix' and action.title:find('trust_remote_code=False', 1, true) ~= nil
    end,
  })
  local fixed = vim.wait(TIMEOUT, function()
    return vim.api.nvim_buf_get_lines(buf, 17, 18, false)[1] == '        trust_remote_code=False,'
  end, 50)
  check(fixed, rel .. ': quick fix sets trust_remote_code=False on line 18',
    'line 18: ' .. vim.inspect(vim.api.nvim_buf_get_lines(buf, 17, 18, false)[1]) .. ' actions: ' .. vim.inspect(titles))
  check(vim.tbl_contains(titles, 'Suppress TL301 with a reason'), rel .. ': "Suppress TL301 with a reason" offered',
    vim.inspect(titles))
  expect_diagnostics(buf, rel, { 'TL811@24' })
end

-- 2. Hover on the eval of LLM output: the rule's explanation.
do
  local rel = 'services/rag/tools.py'
  local buf = open(rel)
  attached(buf, rel, true)
  expect_diagnostics(buf, rel, { 'TL401@17' })
  local params = vim.lsp.util.make_position_params(0, 'utf-16')
  params.position = { line = 16, character = 20 }
  local responses = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, TIMEOUT) or {}
  local text = ''
  for _, response in pairs(responses) do
    local contents = response.result and response.result.contents
    if type(contents) == 'table' and contents.value then
      text = text .. contents.value
    end
  end
  check(text:find('threatlens TL401', 1, true) ~= nil, rel .. ': hover names TL401', text:sub(1, 200))
  check(text:find('json.loads', 1, true) ~= nil and text:find('CWE%-95') ~= nil,
    rel .. ': hover explains the fix and references', text:sub(1, 400))
end

-- 3. Rust.
do
  local rel = 'services/reranker-rs/src/main.rs'
  local buf = open(rel)
  attached(buf, rel, true)
  expect_diagnostics(buf, rel, { 'TL150@7' })
end

-- 4. A notebook opened as JSON text: findings reported on line 1 with their cell.
do
  local rel = 'notebooks/eval.ipynb'
  local buf = open(rel)
  attached(buf, rel, true)
  expect_diagnostics(buf, rel, { 'TL110@1', 'TL303@1', 'TL602@1' })
  local d = vim.tbl_filter(function(x) return x.code == 'TL602' end, diagnostics(buf))[1]
  check(d and d.message:find('^cell 3, line 1') ~= nil, rel .. ': TL602 message names cell 3', d and d.message)
end

-- 5. Settings: `ignore = { 'TL305' }` from setup() reaches the server.
do
  local rel = 'services/embedder/server.py'
  local buf = open(rel)
  attached(buf, rel, true)
  local client = client_of(buf)
  check(client and vim.deep_equal(client.config.init_options.ignore, { 'TL305' })
    and vim.deep_equal(client.config.settings.threatlens.ignore, { 'TL305' }),
    rel .. ': settings sent as initializationOptions and the threatlens section')
  -- The server answers code actions from the current analysis: none for the ignored rule.
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = { start = { line = 0, character = 0 }, ['end'] = { line = vim.api.nvim_buf_line_count(buf), character = 0 } },
    context = { diagnostics = {} },
  }
  local responses = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, TIMEOUT) or {}
  local titles = {}
  for _, response in pairs(responses) do
    for _, action in ipairs(response.result or {}) do
      table.insert(titles, action.title)
    end
  end
  check(next(responses) ~= nil and not table.concat(titles, '|'):find('TL305'), rel .. ': TL305 ignored by the setting',
    vim.inspect(titles))
  check(#vim.tbl_filter(function(d) return d.code == 'TL305' end, diagnostics(buf)) == 0, rel .. ': no TL305 diagnostic')
end

-- 6. YAML: threat models attach, other YAML does not.
do
  local buf = open('threatmodel.yaml')
  attached(buf, 'threatmodel.yaml', true)
  buf = open('models/extra-model.yaml')
  attached(buf, 'models/extra-model.yaml (schema: threatlens/v1)', true)
  buf = open('deploy/values.yaml')
  attached(buf, 'deploy/values.yaml (plain YAML)', false)
end

-- 7. The threat model's own diagnostics: TM116 (documents embedded without secret scanning:
--    ctl-secret-scan-ingest is only planned) on the ingestion-pipeline component, line 246.
do
  local rel = 'threatmodel.yaml'
  local buf = open(rel)
  local found
  vim.wait(TIMEOUT, function()
    found = vim.tbl_filter(function(d) return d.code == 'TM116' and d.lnum + 1 == 246 end, diagnostics(buf))[1]
    return found ~= nil
  end, 50)
  check(found and found.source == 'threatlens' and found.severity == vim.diagnostic.severity.ERROR
    and vim.api.nvim_buf_get_lines(buf, 245, 246, false)[1]:find('ingestion%-pipeline') ~= nil,
    rel .. ': TM116 (high) on ingestion-pipeline, line 246',
    vim.inspect(vim.tbl_map(function(d) return d.code .. '@' .. (d.lnum + 1) end, diagnostics(buf))))
end

-- 8. :ThreatlensDiagram draws the model as it is in the buffer, unsaved edit included.
do
  local rel = 'threatmodel.yaml'
  local buf = open(rel)
  -- Re-entering a buffer re-attaches it asynchronously: the edit must reach the server.
  attached(buf, rel, true)
  local row
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line == '    name: RAG orchestrator' then
      row = i
    end
  end
  check(row ~= nil, rel .. ': has the RAG orchestrator component')
  vim.api.nvim_buf_set_lines(buf, row - 1, row, false, { '    name: Unsaved orchestrator' })
  vim.cmd('ThreatlensDiagram')
  local diagram
  vim.wait(TIMEOUT, function()
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_valid(b) and vim.bo[b].filetype == 'mermaid' then
        diagram = table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\n')
        return true
      end
    end
    return false
  end, 50)
  diagram = diagram or ''
  check(diagram:find('flowchart LR', 1, true) ~= nil
    and diagram:find('c_rag_orchestrator("Unsaved orchestrator<br/>rag-orchestrator', 1, true) ~= nil
    and diagram:find('subgraph b_app_vpc', 1, true) ~= nil,
    ':ThreatlensDiagram: a mermaid buffer with the model, unsaved edit included',
    diagram:match('[^\n]*c_rag_orchestrator%([^\n]*') or diagram:sub(1, 300))
  check(vim.bo.buftype == 'nofile' and vim.api.nvim_get_current_buf() ~= buf,
    ':ThreatlensDiagram: shown in a scratch buffer')
  check(vim.fn.readfile(vim.api.nvim_buf_get_name(buf))[row] == '    name: RAG orchestrator',
    rel .. ': the edit was not written (the diagram came from the buffer)')
end

finish()

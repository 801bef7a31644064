-- threatlens for Neovim: a thin client that starts `threatlens lsp`.
--
-- Diagnostics, quick fixes (`vim.lsp.buf.code_action()`), hovers (`K`) and commands all come
-- from the server. Neovim >= 0.11 uses `vim.lsp.config` + `vim.lsp.enable`; older versions
-- (0.8+) fall back to `vim.lsp.start` from a FileType autocommand.
--
--   require('threatlens').setup({
--     cmd = { 'threatlens', 'lsp' },           -- or { '/path/to/threatlens', 'lsp' }
--     settings = { minimumSeverity = 'medium', ignore = { 'TL303' } },
--   })

local M = {}

M.name = 'threatlens'

--- Settings keys the server reads (lsp/src/server/settings.rs): select, ignore,
--- minimumSeverity, debounceMs, scanWorkspace, logTimings.
M.defaults = {
  cmd = { 'threatlens', 'lsp' },
  -- yaml buffers attach only when they are threat models (see `is_threat_model`); json only
  -- for `.ipynb` files opened as text (the server analyses the notebook's code cells).
  filetypes = { 'python', 'rust', 'yaml', 'json' },
  root_markers = { 'threatlens.toml', 'threatmodel.yaml', 'pyproject.toml', 'Cargo.toml', '.git' },
  settings = {},
}

M.config = vim.deepcopy(M.defaults)

local MODEL_NAMES = { ['threatmodel.yaml'] = true, ['threatmodel.yml'] = true }

--- Whether a yaml buffer is a threatlens/v1 threat model: named `threatmodel.yaml`, or its first
--- key (after comments and `---`) is `schema: threatlens/v1`.
function M.is_threat_model(bufnr)
  local name = vim.fs.basename(vim.api.nvim_buf_get_name(bufnr))
  if MODEL_NAMES[name] then
    return true
  end
  for _, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, 50, false)) do
    local text = vim.trim(line)
    if text ~= '' and text:sub(1, 1) ~= '#' and text ~= '---' then
      return text:match('^schema:%s*["\']?threatlens/v1["\']?%s*$') ~= nil
        or text:match('^schema:%s*["\']?threatlens/v1["\']?%s+#') ~= nil
    end
  end
  return false
end

--- Whether the server should see this buffer.
function M.wants(bufnr)
  local ft = vim.bo[bufnr].filetype
  if ft == 'yaml' then
    return M.is_threat_model(bufnr)
  end
  if ft == 'json' then
    return vim.api.nvim_buf_get_name(bufnr):match('%.ipynb$') ~= nil
  end
  return ft == 'python' or ft == 'rust'
end

local function find_root(bufnr)
  local path = vim.api.nvim_buf_get_name(bufnr)
  if vim.fs.root then
    return vim.fs.root(bufnr, M.config.root_markers) or vim.fs.dirname(path)
  end
  local found = vim.fs.find(M.config.root_markers, { path = vim.fs.dirname(path), upward = true })[1]
  return found and vim.fs.dirname(found) or vim.fs.dirname(path)
end

local function lsp_config()
  return {
    cmd = M.config.cmd,
    filetypes = M.config.filetypes,
    -- The server reads the settings object from initializationOptions and from
    -- workspace/didChangeConfiguration or workspace/configuration (section `threatlens`).
    init_options = M.config.settings,
    settings = { threatlens = M.config.settings },
    on_attach = M.config.on_attach,
    capabilities = M.config.capabilities,
  }
end

--- The server's command that renders the threat-model diagram, if it offers one.
local function diagram_command(client)
  local provider = client.server_capabilities.executeCommandProvider
  for _, command in ipairs(provider and provider.commands or {}) do
    if command:lower():find('diagram', 1, true) then
      return command
    end
  end
end

--- Filetypes of the diagram formats, for the scratch buffer.
local DIAGRAM_FILETYPES = { mermaid = 'mermaid', dot = 'dot', svg = 'svg' }

--- `:ThreatlensDiagram [mermaid|dot|svg]`: asks the server for the diagram of the threat model
--- (of the current file's workspace; unsaved model buffers included) and shows it in a scratch
--- buffer in a new window.
function M.diagram(opts)
  local format = opts and opts.args ~= '' and opts.args or 'mermaid'
  if not DIAGRAM_FILETYPES[format] then
    vim.notify('threatlens: unknown diagram format ' .. format .. ' (mermaid, dot or svg)', vim.log.levels.ERROR)
    return
  end
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  -- There is a client per root: the one attached to this buffer has its unsaved edits.
  local client = get({ name = M.name, bufnr = 0 })[1] or get({ name = M.name })[1]
  if not client then
    vim.notify('threatlens: the language server is not running', vim.log.levels.WARN)
    return
  end
  local command = diagram_command(client)
  if not command then
    vim.notify('threatlens: this server offers no diagram command; update threatlens', vim.log.levels.WARN)
    return
  end
  -- The model of the current file (the server finds it from any file of the workspace), else
  -- the client's root.
  local name = vim.api.nvim_buf_get_name(0)
  local path = (name ~= '' and vim.bo.buftype == '') and name or client.config.root_dir
  local argument = { format = format }
  if path then
    argument.uri = vim.uri_from_fname(path)
  end
  local params = { command = command, arguments = { argument } }
  local function handler(err, result)
    if err then
      vim.notify('threatlens: ' .. err.message, vim.log.levels.ERROR)
      return
    end
    if type(result) ~= 'table' or type(result.text) ~= 'string' then
      vim.notify('threatlens: the server sent no diagram', vim.log.levels.ERROR)
      return
    end
    vim.cmd.new()
    local buf = vim.api.nvim_get_current_buf()
    vim.bo[buf].buftype = 'nofile'
    vim.bo[buf].bufhidden = 'wipe'
    vim.bo[buf].swapfile = false
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(result.text, '\n', { trimempty = true }))
    vim.bo[buf].filetype = DIAGRAM_FILETYPES[format]
    vim.bo[buf].modified = false
    if (result.modelErrors or 0) > 0 then
      vim.notify(string.format('threatlens: the threat model has %d error(s); the diagram shows what could be read',
        result.modelErrors), vim.log.levels.WARN)
    end
  end
  if vim.fn.has('nvim-0.11') == 1 then
    client:request('workspace/executeCommand', params, handler)
  else
    client.request('workspace/executeCommand', params, handler)
  end
end

--- Configures and enables the client. Options: cmd, settings, filetypes, root_markers,
--- on_attach, capabilities.
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  if opts and opts.filetypes then
    M.config.filetypes = opts.filetypes -- lists replace, not merge
  end
  vim.api.nvim_create_user_command('ThreatlensDiagram', M.diagram, {
    desc = 'threatlens: show the threat-model diagram (mermaid, dot or svg)',
    nargs = '?',
    complete = function() return { 'mermaid', 'dot', 'svg' } end,
  })

  if vim.lsp.config and vim.lsp.enable then
    local config = lsp_config()
    -- Called per buffer: attaching only where `on_dir` is called keeps plain yaml/json out.
    config.root_dir = function(bufnr, on_dir)
      if M.wants(bufnr) then
        on_dir(find_root(bufnr))
      end
    end
    vim.lsp.config(M.name, config)
    vim.lsp.enable(M.name)
    return
  end

  -- Neovim < 0.11.
  local group = vim.api.nvim_create_augroup('threatlens', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.config.filetypes,
    callback = function(event)
      if not M.wants(event.buf) then
        return
      end
      local config = lsp_config()
      config.name = M.name
      config.root_dir = find_root(event.buf)
      vim.lsp.start(config, { bufnr = event.buf })
    end,
  })
end

return M

// @ts-check
// threatlens for VS Code: a thin client. It starts `threatlens lsp` and forwards documents and
// settings; diagnostics, quick fixes, hovers and commands all come from the server.
'use strict';

const path = require('path');
const vscode = require('vscode');
const {
  LanguageClient,
  ExecuteCommandRequest,
  DidChangeConfigurationNotification,
  State,
} = require('vscode-languageclient/node');

const SECTION = 'threatlens';
/** Settings passed to the server (see lsp/src/server/settings.rs). */
const SERVER_SETTINGS = ['select', 'ignore', 'minimumSeverity', 'debounceMs', 'scanWorkspace', 'logTimings'];
/** A YAML document is a threat model when it is named so or declares the format on its first lines. */
const MODEL_NAMES = new Set(['threatmodel.yaml', 'threatmodel.yml']);
const SCHEMA_LINE = /^schema:\s*["']?threatlens\/v1["']?\s*(#.*)?$/;

/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.LogOutputChannel} */
let output;

/** @param {vscode.TextDocument} doc */
function isThreatModel(doc) {
  if (MODEL_NAMES.has(path.basename(doc.uri.path))) {
    return true;
  }
  // `schema:` is the format's first key; allow a leading comment block or document marker.
  const last = Math.min(doc.lineCount, 50);
  for (let i = 0; i < last; i++) {
    const line = doc.lineAt(i).text.trim();
    if (line === '' || line.startsWith('#') || line === '---') {
      continue;
    }
    return SCHEMA_LINE.test(line);
  }
  return false;
}

/** Whether a document is for the server: YAML only when it is a threat model. */
function wanted(/** @type {vscode.TextDocument} */ doc) {
  return doc.languageId !== 'yaml' || isThreatModel(doc);
}

function serverSettings() {
  const config = vscode.workspace.getConfiguration(SECTION);
  /** @type {Record<string, unknown>} */
  const settings = {};
  for (const key of SERVER_SETTINGS) {
    const value = config.get(key);
    if (value !== undefined && value !== null) {
      settings[key] = value;
    }
  }
  return settings;
}

function createClient() {
  const command = vscode.workspace.getConfiguration(SECTION).get('serverPath') || 'threatlens';
  /** @type {import('vscode-languageclient/node').ServerOptions} */
  const serverOptions = {
    // No `transport`: the server speaks stdio only (it also accepts `--stdio`).
    run: { command, args: ['lsp'] },
    debug: { command, args: ['lsp'] },
  };
  // YAML documents that are not threat models are never sent (see middleware): the selector
  // cannot look at content.
  const sent = new Set();
  /** @type {import('vscode-languageclient/node').LanguageClientOptions} */
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'python' },
      { scheme: 'untitled', language: 'python' },
      { scheme: 'vscode-notebook-cell', language: 'python' },
      { scheme: 'file', language: 'rust' },
      { scheme: 'untitled', language: 'rust' },
      { scheme: 'file', language: 'yaml' },
      { scheme: 'untitled', language: 'yaml' },
    ],
    initializationOptions: serverSettings(),
    outputChannel: output,
    middleware: {
      didOpen: (doc, next) => {
        if (!wanted(doc)) {
          return Promise.resolve();
        }
        sent.add(doc.uri.toString());
        return next(doc);
      },
      didChange: (event, next) =>
        sent.has(event.document.uri.toString()) ? next(event) : Promise.resolve(),
      didSave: (doc, next) => (sent.has(doc.uri.toString()) ? next(doc) : Promise.resolve()),
      didClose: (doc, next) => {
        if (!sent.delete(doc.uri.toString())) {
          return Promise.resolve();
        }
        return next(doc);
      },
      provideHover: (doc, position, token, next) =>
        wanted(doc) ? next(doc, position, token) : undefined,
      provideCodeActions: (doc, range, context, token, next) =>
        wanted(doc) ? next(doc, range, context, token) : undefined,
    },
  };
  return new LanguageClient(SECTION, 'threatlens', serverOptions, clientOptions);
}

async function start() {
  client = createClient();
  try {
    await client.start();
  } catch (error) {
    const serverPath = vscode.workspace.getConfiguration(SECTION).get('serverPath');
    vscode.window.showErrorMessage(
      `threatlens: could not start \`${serverPath} lsp\` (${error}). Install threatlens ` +
        '(`cargo install --path lsp`) or set `threatlens.serverPath`.',
    );
  }
}

async function stop() {
  const old = client;
  client = undefined;
  if (old && old.state !== State.Stopped) {
    await old.stop();
  }
}

/** The server command that renders the diagram, if the server offers one. */
function diagramCommand() {
  const commands = client?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  return commands.find((c) => /diagram/i.test(c));
}

/**
 * Asks the server for the threat model's diagram (Mermaid, from the open buffers, unsaved edits
 * included) and opens it as an untitled Markdown document with a ```mermaid fence: the Markdown
 * preview draws it when a Mermaid extension is installed, and it pastes into any Markdown file.
 */
async function showDiagram() {
  if (!client || client.state !== State.Running) {
    vscode.window.showWarningMessage('threatlens: the language server is not running.');
    return;
  }
  const command = diagramCommand();
  if (!command) {
    vscode.window.showWarningMessage(
      'threatlens: this server offers no diagram command; update threatlens ' +
        '(`threatlens diagram` draws it on the command line).',
    );
    return;
  }
  // The model of the file being edited (the server finds it from any file of the workspace),
  // else the first workspace folder's.
  const active = vscode.window.activeTextEditor?.document.uri;
  const uri = active?.scheme === 'file' ? active : vscode.workspace.workspaceFolders?.[0]?.uri;
  /** @type {{ format: string, text: string, uri?: string, modelErrors?: number } | null} */
  let result;
  try {
    result = await client.sendRequest(ExecuteCommandRequest.type, {
      command,
      arguments: [uri ? { uri: uri.toString(), format: 'mermaid' } : { format: 'mermaid' }],
    });
  } catch (error) {
    vscode.window.showErrorMessage(`threatlens: ${error instanceof Error ? error.message : error}`);
    return;
  }
  if (!result || typeof result.text !== 'string') {
    vscode.window.showErrorMessage('threatlens: the server sent no diagram.');
    return;
  }
  // The first line names the untitled tab.
  const model = result.uri ? ` of ${path.basename(vscode.Uri.parse(result.uri).path)}` : '';
  const content = `# Threat-model diagram${model}\n\n\`\`\`mermaid\n${result.text}\`\`\`\n`;
  const doc = await vscode.workspace.openTextDocument({ content, language: 'markdown' });
  await vscode.window.showTextDocument(doc, { preview: false });
  if (result.modelErrors) {
    vscode.window.showWarningMessage(
      `threatlens: the threat model has ${result.modelErrors} error(s); the diagram shows what could be read.`,
    );
  }
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  // vscode-languageclient logs through a LogOutputChannel (it calls .error, .info, ...).
  output = vscode.window.createOutputChannel('threatlens', { log: true });
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('threatlens.showDiagram', showDiagram),
    vscode.commands.registerCommand('threatlens.restartServer', async () => {
      await stop();
      await start();
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration(SECTION)) {
        return;
      }
      if (event.affectsConfiguration(`${SECTION}.serverPath`)) {
        await stop();
        await start();
      } else if (client && client.state === State.Running) {
        await client.sendNotification(DidChangeConfigurationNotification.type, {
          settings: serverSettings(),
        });
      }
    }),
  );
  await start();
}

async function deactivate() {
  await stop();
}

module.exports = { activate, deactivate };

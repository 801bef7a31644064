//! A JSON-RPC client for the language server under test (see the crate docs).

use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any wait lasts before the test fails (debug builds on two shared cores are slow).
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// How a file changed on disk (`FileChangeType`).
#[derive(Debug, Clone, Copy)]
pub enum OnDisk {
    Created = 1,
    Changed = 2,
    Deleted = 3,
}

pub struct TestServer {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Value>,
    /// Messages received but not yet consumed by a wait.
    backlog: VecDeque<Value>,
    next_id: i64,
    /// Server-to-client requests with these methods are not answered automatically.
    pub hold: Vec<String>,
    stderr: Arc<Mutex<String>>,
    pub timeout: Duration,
}

/// `file://` URI of a path (percent-encoding what RFC 3986 does not allow in a path).
pub fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

impl TestServer {
    /// Starts `threatlens lsp` with extra environment variables.
    pub fn spawn_with(env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(crate::threatlens_bin());
        command.args(["lsp", "--stdio"]);
        for (key, value) in env {
            command.env(key, value);
        }
        Self::spawn_command(command)
    }

    /// Starts another language server over stdio (the keystroke bench times `ruff server`
    /// beside threatlens).
    pub fn spawn_command(mut command: Command) -> Self {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {:?}: {e}", command.get_program()));
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let collected = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&collected);
        std::thread::spawn(move || {
            let mut stderr = stderr;
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                if let Ok(mut text) = sink.lock() {
                    text.push_str(&String::from_utf8_lossy(&buffer[..n]));
                }
            }
        });
        Self {
            stdin: child.stdin.take(),
            child,
            messages,
            backlog: VecDeque::new(),
            next_id: 1,
            hold: Vec::new(),
            stderr: collected,
            timeout: TIMEOUT,
        }
    }

    pub fn spawn() -> Self {
        Self::spawn_with(&[])
    }

    /// `initialize` (waiting for its response, as a client must), then `initialized`.
    pub fn initialize(&mut self, params: Value) -> Value {
        let result = self
            .call("initialize", params)
            .unwrap_or_else(|e| panic!("initialize failed: {e}"));
        self.notify("initialized", json!({}));
        result
    }

    /// Capabilities of a typical editor: progress, dynamic file watching, versioned edits.
    pub fn client_capabilities() -> Value {
        json!({
            "window": { "workDoneProgress": true },
            "workspace": {
                "didChangeWatchedFiles": { "dynamicRegistration": true },
                "workspaceEdit": { "documentChanges": true },
                "configuration": true
            },
            "textDocument": {
                "publishDiagnostics": { "relatedInformation": true, "versionSupport": true },
                "codeAction": { "codeActionLiteralSupport": { "codeActionKind": { "valueSet": ["quickfix", "source.fixAll"] } } },
                "hover": { "contentFormat": ["markdown", "plaintext"] }
            },
            "notebookDocument": { "synchronization": { "dynamicRegistration": false } }
        })
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write to server");
        stdin.flush().expect("flush");
    }

    pub fn send(&mut self, message: &Value) {
        let body = serde_json::to_vec(message).expect("serialise");
        let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        framed.extend_from_slice(&body);
        self.send_raw(&framed);
    }

    pub fn request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Tells the server that the file at `uri` was created, changed or deleted on disk (what an
    /// editor's file watcher sends).
    pub fn file_on_disk(&mut self, change: OnDisk, uri: &str) {
        self.notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": uri, "type": change as u8}]}),
        );
    }

    /// Answers a server-to-client request.
    pub fn respond(&mut self, id: &Value, result: Value) {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "result": result}));
    }

    /// Sends a request and waits for its result (`Err` holds the JSON-RPC error).
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.request(method, params);
        let response = self.await_response(&json!(id));
        match response.get("error") {
            Some(error) => Err(error.clone()),
            None => Ok(response.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// Waits for a message matching `pred`, keeping the others for later waits.
    pub fn await_message(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(index) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(index).expect("index is valid");
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) => {
                    self.auto_answer(&message);
                    if pred(&message) {
                        return message;
                    }
                    self.backlog.push_back(message);
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "timed out after {:?} waiting for {what}; unconsumed: {}\nserver stderr:\n{}",
                    self.timeout,
                    self.summary(),
                    self.stderr()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "the server closed its output while waiting for {what} (exit: {:?}); unconsumed: {}\nserver stderr:\n{}",
                    self.child.try_wait(),
                    self.summary(),
                    self.stderr()
                ),
            }
        }
    }

    fn auto_answer(&mut self, message: &Value) {
        let (Some(id), Some(method)) = (message.get("id"), message.get("method")) else {
            return;
        };
        if !self.hold.iter().any(|m| m == method) {
            let id = id.clone();
            self.respond(&id, Value::Null);
        }
    }

    pub fn await_response(&mut self, id: &Value) -> Value {
        let id = id.clone();
        self.await_message(&format!("the response to request {id}"), |m| {
            m.get("id") == Some(&id) && m.get("method").is_none()
        })
    }

    /// Waits for a notification; returns its params.
    pub fn await_notification(&mut self, method: &str) -> Value {
        self.await_notification_where(method, |_| true)
    }

    pub fn await_notification_where(
        &mut self,
        method: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let message = self.await_message(&format!("a `{method}` notification"), |m| {
            m.get("id").is_none()
                && m.get("method").and_then(Value::as_str) == Some(method)
                && pred(m.get("params").unwrap_or(&Value::Null))
        });
        message.get("params").cloned().unwrap_or(Value::Null)
    }

    /// Waits for `publishDiagnostics` for `uri`, returning the diagnostics.
    pub fn await_diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let params = self.await_notification_where("textDocument/publishDiagnostics", |p| {
            p.get("uri").and_then(Value::as_str) == Some(uri)
        });
        params["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits for a log message containing `text`.
    pub fn await_log(&mut self, text: &str) -> Value {
        self.await_notification_where("window/logMessage", |p| {
            p.get("message")
                .and_then(Value::as_str)
                .is_some_and(|m| m.contains(text))
        })
    }

    /// Waits for a server-to-client request; returns the whole message (`id`, `params`).
    pub fn await_request(&mut self, method: &str) -> Value {
        self.await_message(&format!("a `{method}` request"), |m| {
            m.get("id").is_some() && m.get("method").and_then(Value::as_str) == Some(method)
        })
    }

    /// Messages received so far and not consumed, without waiting.
    pub fn pending(&mut self) -> Vec<Value> {
        while let Ok(message) = self.messages.try_recv() {
            self.auto_answer(&message);
            self.backlog.push_back(message);
        }
        self.backlog.iter().cloned().collect()
    }

    fn summary(&self) -> String {
        let methods: Vec<String> = self
            .backlog
            .iter()
            .map(|m| {
                let method = m
                    .get("method")
                    .and_then(Value::as_str)
                    .unwrap_or("response");
                match method {
                    "window/logMessage" => format!("log: {}", m["params"]["message"]),
                    "textDocument/publishDiagnostics" => format!(
                        "diagnostics {} ({})",
                        m["params"]["uri"],
                        m["params"]["diagnostics"].as_array().map_or(0, Vec::len)
                    ),
                    _ => method.to_string(),
                }
            })
            .collect();
        format!("{methods:#?}")
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `shutdown`, then `exit`; returns the exit status.
    pub fn shutdown(mut self) -> ExitStatus {
        self.call("shutdown", Value::Null)
            .unwrap_or_else(|e| panic!("shutdown failed: {e}"));
        self.notify("exit", Value::Null);
        self.stdin.take();
        self.wait()
    }

    /// Waits for the process to end (killing it after the timeout).
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit; stderr:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Closes the server's stdin (as an editor that dies would).
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads one `Content-Length`-framed message; `None` at the end of the stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// Byte offset of an LSP position (UTF-16 columns) in `text`.
pub fn offset_of(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap_or(0) as usize;
    let character = position["character"].as_u64().unwrap_or(0) as usize;
    let mut start = 0;
    for _ in 0..line {
        match text[start..].find('\n') {
            Some(nl) => start += nl + 1,
            None => return text.len(),
        }
    }
    let mut units = 0;
    for (i, ch) in text[start..].char_indices() {
        if units >= character || ch == '\n' {
            return start + i;
        }
        units += ch.len_utf16();
    }
    text.len()
}

/// Applies LSP text edits (`[{range, newText}]`) to `text`, as an editor would.
pub fn apply_edits(text: &str, edits: &[Value]) -> String {
    let mut ranged: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            (
                offset_of(text, &e["range"]["start"]),
                offset_of(text, &e["range"]["end"]),
                e["newText"].as_str().unwrap_or(""),
            )
        })
        .collect();
    ranged.sort_by_key(|(start, end, _)| std::cmp::Reverse((*start, *end)));
    let mut out = text.to_string();
    for (start, end, new_text) in ranged {
        out.replace_range(start..end, new_text);
    }
    out
}

/// The text edits for `uri` in a workspace edit (`changes` or `documentChanges`).
pub fn edits_for(edit: &Value, uri: &str) -> Vec<Value> {
    if let Some(changes) = edit.get("changes").and_then(|c| c.get(uri)) {
        return changes.as_array().cloned().unwrap_or_default();
    }
    edit.get("documentChanges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c["textDocument"]["uri"].as_str() == Some(uri))
        .flat_map(|c| c["edits"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// A temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "threatlens-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let path = std::env::temp_dir().join(unique);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        // Canonical, so that URIs the server builds from paths match ours.
        Self(std::fs::canonicalize(&path).unwrap_or(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes a file (creating directories) and returns its path.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

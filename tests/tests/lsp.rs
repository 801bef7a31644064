//! End-to-end tests of `threatlens lsp`: the real binary, JSON-RPC over its stdio.

use serde_json::{Value, json};
use threatlens_tests::lsp_client::{OnDisk, TempDir, TestServer, apply_edits, edits_for, file_uri};

/// A Python file with a finding after non-ASCII text on the same line (UTF-16 positions).
const VULNERABLE: &str = "import torch\nname = \"héllo 😀\"; m = torch.load(path)\n";

fn init_params(root: Option<&std::path::Path>, options: Value) -> Value {
    let folders = root.map(|r| json!([{"uri": file_uri(r), "name": "root"}]));
    json!({
        "processId": null,
        "rootUri": root.map(file_uri),
        "workspaceFolders": folders,
        "capabilities": TestServer::client_capabilities(),
        "initializationOptions": options,
    })
}

/// A server on an empty workspace, no workspace scan, no debounce.
fn server() -> TestServer {
    let mut server = TestServer::spawn();
    server.initialize(init_params(None, json!({"debounceMs": 0})));
    server
}

fn open(server: &mut TestServer, uri: &str, language: &str, text: &str) {
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
    );
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect()
}

#[test]
fn diagnostics_fix_and_clear() {
    let dir = TempDir::new("lsp-fix");
    let path = dir.write("app.py", VULNERABLE);
    let uri = file_uri(&path);
    let mut server = server();
    open(&mut server, &uri, "python", VULNERABLE);

    let diagnostics = server.await_diagnostics(&uri);
    assert_eq!(codes(&diagnostics), ["TL110"], "{diagnostics:#?}");
    let diagnostic = &diagnostics[0];
    // `torch.load(path)` starts after `name = "héllo 😀"; m = ` : 22 characters, 23 UTF-16 units (the emoji is 2).
    assert_eq!(
        diagnostic["range"],
        json!({"start": {"line": 1, "character": 23}, "end": {"line": 1, "character": 39}})
    );
    assert_eq!(diagnostic["source"], "threatlens");
    assert_eq!(diagnostic["severity"], 2, "medium is a warning");
    assert!(diagnostic.get("codeDescription").is_none());
    assert_eq!(diagnostic["data"]["rule"], "TL110");
    assert_eq!(
        diagnostic["data"]["fix"]["edits"][0]["newText"],
        ", weights_only=True"
    );

    let actions = server
        .call(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri},
                "range": diagnostic["range"],
                "context": {"diagnostics": [diagnostic]},
            }),
        )
        .expect("code actions");
    let actions = actions.as_array().expect("an array of actions");
    let fix = actions
        .iter()
        .find(|a| a["kind"] == "quickfix" && a["isPreferred"] == true)
        .expect("a preferred quick fix");
    assert!(fix["title"].as_str().unwrap().contains("weights_only"));
    assert_eq!(fix["diagnostics"][0]["code"], "TL110");
    let edits = edits_for(&fix["edit"], &uri);
    assert_eq!(
        fix["edit"]["documentChanges"][0]["textDocument"]["version"], 1,
        "edits name the version they apply to"
    );
    let fixed = apply_edits(VULNERABLE, &edits);
    assert_eq!(
        fixed,
        "import torch\nname = \"héllo 😀\"; m = torch.load(path, weights_only=True)\n"
    );

    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": edits.iter().map(|e| json!({"range": e["range"], "text": e["newText"]})).collect::<Vec<_>>(),
        }),
    );
    let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri.as_str() && p["version"] == 2
    });
    assert_eq!(
        params["diagnostics"],
        json!([]),
        "the fix clears the finding"
    );
    assert!(server.shutdown().success());
}

#[test]
fn hover_shows_the_rule() {
    let uri = "untitled:hover.py";
    let mut server = server();
    open(&mut server, uri, "python", VULNERABLE);
    let diagnostics = server.await_diagnostics(uri);
    assert_eq!(codes(&diagnostics), ["TL110"]);
    let hover = server
        .call(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 30}}),
        )
        .expect("hover");
    assert_eq!(hover["contents"]["kind"], "markdown");
    let text = hover["contents"]["value"].as_str().unwrap();
    for expected in [
        "TL110",
        "torch-load-without-weights-only",
        "**Why it matters**",
        "**How to fix**",
        "CWE-502",
        "ISO/IEC 27001:2022 Annex A: A.8.28",
        "MITRE ATLAS",
        "OWASP",
    ] {
        assert!(text.contains(expected), "hover lacks {expected:?}:\n{text}");
    }
    assert_eq!(hover["range"], diagnostics[0]["range"]);
    // Nothing to say away from findings.
    let nothing = server
        .call(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 1}}),
        )
        .expect("hover");
    assert_eq!(nothing, Value::Null);
}

#[test]
fn suppress_with_a_reason_and_fix_all() {
    let text = "import torch\na = torch.load(p)\nb = torch.load(q)  # keep\n";
    let uri = "untitled:two.py";
    let mut server = server();
    open(&mut server, uri, "python", text);
    let diagnostics = server.await_diagnostics(uri);
    assert_eq!(codes(&diagnostics), ["TL110", "TL110"]);

    let actions = server
        .call(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri},
                "range": diagnostics[1]["range"],
                "context": {"diagnostics": [diagnostics[1]]},
            }),
        )
        .expect("code actions");
    let suppress = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().starts_with("Suppress TL110"))
        .expect("a suppress action");
    let suppressed = apply_edits(text, &edits_for(&suppress["edit"], uri));
    assert_eq!(
        suppressed,
        "import torch\na = torch.load(p)\nb = torch.load(q)  # keep  # threatlens: ignore[TL110] TODO: why is this safe?\n"
    );

    // fixAll, asked for by kind (as editors do on save).
    let actions = server
        .call(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "context": {"diagnostics": [], "only": ["source.fixAll"]},
            }),
        )
        .expect("code actions");
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:#?}");
    assert_eq!(actions[0]["kind"], "source.fixAll.threatlens");
    let fixed = apply_edits(text, &edits_for(&actions[0]["edit"], uri));
    assert_eq!(
        fixed,
        "import torch\na = torch.load(p, weights_only=True)\nb = torch.load(q, weights_only=True)  # keep\n"
    );

    // The suppression, once in the text, hides the finding.
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": suppressed}]}),
    );
    let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri && p["version"] == 2
    });
    let diagnostics = params["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 1);
}

/// An editing session walks only the edited method again, over what the last whole analysis
/// learned; here that keeps an old value alive: `self.y` still holds the taint of `input()`,
/// which the edit removed, fed back through `helper`'s parameter. Once the document has not
/// changed for a moment, a whole analysis publishes what a check of the file finds.
#[test]
fn a_whole_analysis_settles_the_diagnostics_when_the_edits_stop() {
    let text = "\
class Store:
    def run(self):
        self.helper(self.y or input())
        eval(self.y)

    def helper(self, value):
        self.y = value
";
    let uri = "untitled:settle.py";
    let mut server = server();
    open(&mut server, uri, "python", text);
    let diagnostics = server.await_diagnostics(uri);
    assert_eq!(codes(&diagnostics), ["TL401"]);
    assert_eq!(
        diagnostics[0]["severity"], 1,
        "from user input: high, an error"
    );
    let edited = text.replace("input()", "'constant'");
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    // Without a source, `eval` of an unknown value is medium, a warning (what `check` says).
    let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri && p["version"] == 2 && p["diagnostics"][0]["severity"] == 2
    });
    assert_eq!(codes(params["diagnostics"].as_array().unwrap()), ["TL401"]);
}

#[test]
fn related_information_points_at_the_untrusted_source() {
    let text =
        "import requests, _pickle as cp\nresp = requests.get(url)\nobj = cp.loads(resp.content)\n";
    let uri = "untitled:taint.py";
    let mut server = server();
    open(&mut server, uri, "python", text);
    let diagnostics = server.await_diagnostics(uri);
    assert_eq!(codes(&diagnostics), ["TL101"]);
    assert_eq!(diagnostics[0]["severity"], 1, "tainted: high, an error");
    let related = &diagnostics[0]["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], uri);
    assert_eq!(related["location"]["range"]["start"]["line"], 1);
    assert!(related["message"].as_str().unwrap().contains("untrusted"));
}

#[test]
fn rust_documents_get_diagnostics() {
    let text = "fn main() {\n    let x = 1; // threatlens: ignore[TL999] not a rule\n}\n";
    let uri = "untitled:main.rs";
    let mut server = server();
    open(&mut server, uri, "rust", text);
    let diagnostics = server.await_diagnostics(uri);
    assert_eq!(codes(&diagnostics), ["TL002"], "{diagnostics:#?}");
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 1);
}

#[test]
fn settings_filter_what_is_shown() {
    let mut server = TestServer::spawn();
    server.initialize(init_params(
        None,
        json!({"threatlens": {"debounceMs": 0, "minimumSeverity": "high"}}),
    ));
    let uri = "untitled:settings.py";
    open(&mut server, uri, "python", VULNERABLE);
    assert_eq!(
        server.await_diagnostics(uri),
        Vec::<Value>::new(),
        "medium < high"
    );

    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"threatlens": {"debounceMs": 0}}}),
    );
    assert_eq!(codes(&server.await_diagnostics(uri)), ["TL110"]);

    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"threatlens": {"debounceMs": 0, "ignore": ["TL110"]}}}),
    );
    assert_eq!(server.await_diagnostics(uri), Vec::<Value>::new());

    // Invalid settings are reported and leave the settings as they were.
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"minimumSeverity": "enormous"}}),
    );
    server.await_log("settings unchanged");
    assert!(server.shutdown().success());
}

#[test]
fn notebooks_are_one_module_with_diagnostics_per_cell() {
    let nb = "file:///tmp/threatlens-test/analysis.ipynb";
    let cell = |n: u32| format!("vscode-notebook-cell:/tmp/threatlens-test/analysis.ipynb#C{n}");
    let mut server = server();
    server.notify(
        "notebookDocument/didOpen",
        json!({
            "notebookDocument": {
                "uri": nb, "notebookType": "jupyter-notebook", "version": 1,
                "cells": [
                    {"kind": 2, "document": cell(1)},
                    {"kind": 1, "document": cell(2)},
                    {"kind": 2, "document": cell(3)},
                ],
            },
            "cellTextDocuments": [
                {"uri": cell(1), "languageId": "python", "version": 1, "text": "import torch\n!pip install x\n"},
                {"uri": cell(2), "languageId": "markdown", "version": 1, "text": "# torch.load(p)\n"},
                {"uri": cell(3), "languageId": "python", "version": 1, "text": "x = 1\nmodel = torch.load(p)"},
            ],
        }),
    );
    // The import in cell 1 resolves `torch` in cell 3.
    let third = server.await_diagnostics(&cell(3));
    assert_eq!(codes(&third), ["TL110"]);
    assert_eq!(
        third[0]["range"],
        json!({"start": {"line": 1, "character": 8}, "end": {"line": 1, "character": 21}})
    );
    assert_eq!(server.await_diagnostics(&cell(1)), Vec::<Value>::new());

    // Code actions and hovers work on the cell.
    let actions = server
        .call(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": cell(3)}, "range": third[0]["range"], "context": {"diagnostics": third}}),
        )
        .expect("code actions");
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["isPreferred"] == true)
        .expect("a quick fix");
    let edits = edits_for(&fix["edit"], &cell(3));
    assert_eq!(
        apply_edits("x = 1\nmodel = torch.load(p)", &edits),
        "x = 1\nmodel = torch.load(p, weights_only=True)"
    );
    let hover = server
        .call(
            "textDocument/hover",
            json!({"textDocument": {"uri": cell(3)}, "position": {"line": 1, "character": 10}}),
        )
        .expect("hover");
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("TL110")
    );

    // Edit the cell through the notebook: the finding goes away.
    server.notify(
        "notebookDocument/didChange",
        json!({
            "notebookDocument": {"uri": nb, "version": 2},
            "change": {"cells": {"textContent": [{
                "document": {"uri": cell(3), "version": 2},
                "changes": edits.iter().map(|e| json!({"range": e["range"], "text": e["newText"]})).collect::<Vec<_>>(),
            }]}},
        }),
    );
    let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == cell(3).as_str() && p["version"] == 2
    });
    assert_eq!(params["diagnostics"], json!([]));

    // A new cell that loads again, inserted at the end.
    server.notify(
        "notebookDocument/didChange",
        json!({
            "notebookDocument": {"uri": nb, "version": 3},
            "change": {"cells": {"structure": {
                "array": {"start": 3, "deleteCount": 0, "cells": [{"kind": 2, "document": cell(4)}]},
                "didOpen": [{"uri": cell(4), "languageId": "python", "version": 1, "text": "torch.load(q)\n"}],
            }}},
        }),
    );
    assert_eq!(codes(&server.await_diagnostics(&cell(4))), ["TL110"]);

    // Removing the first cell removes the import: torch is no longer known.
    server.notify(
        "notebookDocument/didChange",
        json!({
            "notebookDocument": {"uri": nb, "version": 4},
            "change": {"cells": {"structure": {
                "array": {"start": 0, "deleteCount": 1},
                "didClose": [{"uri": cell(1)}],
            }}},
        }),
    );
    let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == cell(1).as_str()
    });
    assert_eq!(params["diagnostics"], json!([]), "closed cells are cleared");

    server.notify(
        "notebookDocument/didClose",
        json!({"notebookDocument": {"uri": nb}, "cellTextDocuments": [{"uri": cell(2)}, {"uri": cell(3)}, {"uri": cell(4)}]}),
    );
    let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == cell(4).as_str() && p["diagnostics"] == json!([])
    });
    assert!(params["diagnostics"].as_array().unwrap().is_empty());
    assert!(server.shutdown().success());
}

#[test]
fn stale_results_never_overwrite_newer_ones() {
    let mut server = TestServer::spawn();
    server.initialize(init_params(None, json!({"debounceMs": 20})));
    let uri = "untitled:typing.py";
    open(&mut server, uri, "python", "import torch\n");
    server.await_diagnostics(uri);
    // Type `torch.load(p)` one character at a time.
    let typed = "torch.load(p)";
    for (i, ch) in typed.chars().enumerate() {
        server.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": i + 2},
                "contentChanges": [{"range": {"start": {"line": 1, "character": i}, "end": {"line": 1, "character": i}}, "text": ch.to_string()}],
            }),
        );
    }
    let last = (typed.len() + 1) as u64;
    let mut versions = Vec::new();
    loop {
        let params =
            server.await_notification_where("textDocument/publishDiagnostics", |p| p["uri"] == uri);
        let version = params["version"].as_u64().expect("a version");
        versions.push(version);
        if version == last {
            assert_eq!(codes(params["diagnostics"].as_array().unwrap()), ["TL110"]);
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    versions.extend(
        server
            .pending()
            .iter()
            .filter(|m| m["method"] == "textDocument/publishDiagnostics")
            .filter_map(|m| m["params"]["version"].as_u64()),
    );
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]) && versions.last() == Some(&last),
        "published in version order, the newest last: {versions:?}"
    );
}

/// Waits for a `$/progress` notification of the given kind.
fn await_progress(server: &mut TestServer, kind: &str) -> Value {
    server.await_notification_where("$/progress", |p| p["value"]["kind"] == kind)
}

#[test]
fn workspace_scan_reports_progress_and_watches_files() {
    let dir = TempDir::new("lsp-scan");
    let vulnerable = dir.write("pkg/model.py", "import torch\nm = torch.load(p)\n");
    dir.write("pkg/clean.py", "import json\nx = json.loads(s)\n");
    dir.write(".gitignore", "build/\n");
    let ignored = dir.write("build/gen.py", "import torch\ntorch.load(p)\n");
    dir.write("threatlens.toml", "exclude = [\"vendor\"]\n");
    let excluded = dir.write("vendor/lib.py", "import torch\ntorch.load(p)\n");
    let rust = dir.write("src/lib.rs", "// threatlens: ignore[TL101]\nfn f() {}\n");
    let notebook = dir.write(
        "nb.ipynb",
        r#"{"cells": [{"cell_type": "code", "source": ["import pickle\n"]}, {"cell_type": "code", "source": "pickle.load(f)"}]}"#,
    );

    let mut server = TestServer::spawn();
    server.initialize(init_params(Some(dir.path()), json!({"debounceMs": 0})));

    let registration = server.await_request("client/registerCapability");
    let registration = &registration["params"]["registrations"][0];
    assert_eq!(registration["method"], "workspace/didChangeWatchedFiles");
    let globs: Vec<&str> = registration["registerOptions"]["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["globPattern"].as_str())
        .collect();
    assert_eq!(
        globs,
        [
            "**/*.{py,ipynb,rs}",
            "**/threatlens.toml",
            "**/pyproject.toml",
            "**/*.{yaml,yml}",
            "**/*.{pkl,pickle,pt,pth,bin,ckpt,joblib,dill,npy,npz,h5,hdf5,keras,safetensors,gguf,onnx}"
        ]
    );

    server.await_request("window/workDoneProgress/create");
    let begin = await_progress(&mut server, "begin");
    assert!(
        begin["value"]["title"]
            .as_str()
            .unwrap()
            .contains("scanning")
    );
    assert_eq!(begin["value"]["message"], "0/4 files");
    let report = await_progress(&mut server, "report");
    assert_eq!(report["value"]["message"], "4/4 files");
    assert_eq!(report["value"]["percentage"], 100);
    let end = await_progress(&mut server, "end");
    assert!(
        end["value"]["message"]
            .as_str()
            .unwrap()
            .starts_with("4 files"),
        "{end}"
    );

    let model_uri = file_uri(&vulnerable);
    assert_eq!(codes(&server.await_diagnostics(&model_uri)), ["TL110"]);
    assert_eq!(
        codes(&server.await_diagnostics(&file_uri(&rust))),
        ["TL001"]
    );
    let nb = server.await_diagnostics(&file_uri(&notebook));
    assert_eq!(codes(&nb), ["TL101"]);
    assert!(
        nb[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("cell 2, line 1:1: ")
    );
    let published: Vec<String> = server
        .pending()
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics")
        .map(|m| m["params"]["uri"].as_str().unwrap().to_string())
        .collect();
    for quiet in [&ignored, &excluded] {
        assert!(
            !published.contains(&file_uri(quiet)),
            "{quiet:?} is ignored"
        );
    }

    // Opening the file: the buffer takes over; closing it: back to the file on disk.
    open(&mut server, &model_uri, "python", "import torch\n");
    let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == model_uri.as_str() && p["version"] == 1
    });
    assert_eq!(params["diagnostics"], json!([]));
    server.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": model_uri}}),
    );
    assert_eq!(server.await_diagnostics(&model_uri), Vec::<Value>::new());
    assert_eq!(codes(&server.await_diagnostics(&model_uri)), ["TL110"]);

    // A file fixed on disk.
    std::fs::write(
        &vulnerable,
        "import torch\nm = torch.load(p, weights_only=True)\n",
    )
    .unwrap();
    server.file_on_disk(OnDisk::Changed, &model_uri);
    assert_eq!(server.await_diagnostics(&model_uri), Vec::<Value>::new());

    // A new file.
    let created = dir.write("pkg/new.py", "import torch\ntorch.load(p)\n");
    let created_uri = file_uri(&created);
    server.file_on_disk(OnDisk::Created, &created_uri);
    assert_eq!(codes(&server.await_diagnostics(&created_uri)), ["TL110"]);

    // A config change re-scans: TL110 ignored now.
    dir.write(
        "threatlens.toml",
        "exclude = [\"vendor\"]\nignore = [\"TL110\"]\n",
    );
    server.file_on_disk(
        OnDisk::Changed,
        &file_uri(&dir.path().join("threatlens.toml")),
    );
    await_progress(&mut server, "end");
    assert_eq!(server.await_diagnostics(&created_uri), Vec::<Value>::new());

    // A deleted file is cleared.
    std::fs::remove_file(&rust).unwrap();
    server.file_on_disk(OnDisk::Deleted, &file_uri(&rust));
    server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == file_uri(&rust).as_str() && p["diagnostics"] == json!([])
    });
    assert!(server.shutdown().success());
}

/// The nice value of each of a process's threads, by thread name (Linux: `/proc/<pid>/task`).
#[cfg(target_os = "linux")]
fn thread_priorities(pid: u32) -> Vec<(String, i64)> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the server's threads");
    tasks
        .flatten()
        .map(|task| {
            let name = std::fs::read_to_string(task.path().join("comm")).expect("thread name");
            let stat = std::fs::read_to_string(task.path().join("stat")).expect("thread stat");
            // Fields after the parenthesised name: state is field 3, nice field 19.
            let after_name = &stat[stat.rfind(')').expect("stat names the thread") + 2..];
            let nice = after_name.split(' ').nth(16).expect("the nice field");
            (name.trim().to_string(), nice.parse().expect("a number"))
        })
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn the_workspace_scan_runs_below_the_editors_priority() {
    let dir = TempDir::new("lsp-scan-priority");
    dir.write("pkg/model.py", "import torch\nm = torch.load(p)\n");
    let mut server = TestServer::spawn();
    server.initialize(init_params(Some(dir.path()), json!({"debounceMs": 0})));
    await_progress(&mut server, "end");
    // Open documents are analysed on threads at the server's own priority.
    let uri = "untitled:typed.py";
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "import pickle\npickle.loads(b)\n"}}),
    );
    assert_eq!(codes(&server.await_diagnostics(uri)), ["TL101"]);

    let threads = thread_priorities(server.pid());
    let scan: Vec<i64> = threads
        .iter()
        .filter(|(name, _)| name.starts_with("threatlens-scan"))
        .map(|(_, nice)| *nice)
        .collect();
    assert!(
        !scan.is_empty(),
        "the scan ran on its own threads: {threads:?}"
    );
    assert!(scan.iter().all(|&nice| nice == 10), "{threads:?}");
    let others: Vec<&(String, i64)> = threads
        .iter()
        .filter(|(name, _)| !name.starts_with("threatlens-scan"))
        .collect();
    assert!(
        others
            .iter()
            .any(|(name, _)| name.starts_with("threatlens-sess")),
        "{threads:?}"
    );
    assert!(others.iter().all(|(_, nice)| *nice == 0), "{threads:?}");
    let _ = server.shutdown();
}

/// A notebook on disk has file diagnostics from the scan; opened in a notebook editor, its
/// findings move to the cells and the file's go (found by the VS Code suite: both showed).
#[test]
fn opening_a_scanned_notebook_moves_its_diagnostics_to_the_cells() {
    let dir = TempDir::new("lsp-notebook-open");
    let path = dir.write(
        "nb.ipynb",
        r#"{"cells": [{"cell_type": "code", "source": ["import pickle\n"]}, {"cell_type": "code", "source": "pickle.load(f)"}]}"#,
    );
    let mut server = TestServer::spawn();
    server.initialize(init_params(Some(dir.path()), json!({"debounceMs": 0})));
    let nb = file_uri(&path);
    assert_eq!(codes(&server.await_diagnostics(&nb)), ["TL101"]);

    let cell = |n: u32| format!("vscode-notebook-cell:{}#C{n}", path.display());
    server.notify(
        "notebookDocument/didOpen",
        json!({
            "notebookDocument": {
                "uri": nb, "notebookType": "jupyter-notebook", "version": 1,
                "cells": [{"kind": 2, "document": cell(1)}, {"kind": 2, "document": cell(2)}],
            },
            "cellTextDocuments": [
                {"uri": cell(1), "languageId": "python", "version": 1, "text": "import pickle\n"},
                {"uri": cell(2), "languageId": "python", "version": 1, "text": "pickle.load(f)"},
            ],
        }),
    );
    assert_eq!(server.await_diagnostics(&nb), Vec::<Value>::new());
    assert_eq!(codes(&server.await_diagnostics(&cell(2))), ["TL101"]);
    assert!(server.shutdown().success());
}

// ----- bad input --------------------------------------------------------------------------

/// The server still answers: a hover on a document that is not open is `null`.
fn assert_alive(server: &mut TestServer) {
    let answer = server.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": "untitled:none.py"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(answer, Ok(Value::Null));
    assert!(server.is_alive());
}

#[test]
fn malformed_messages_get_errors_and_the_server_stays_up() {
    let mut server = server();
    // Not JSON at all.
    let body = b"{this is not json";
    server.send_raw(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    server.send_raw(body);
    let error = server.await_message("a parse error", |m| m.get("error").is_some());
    assert_eq!(error["error"]["code"], -32700);
    assert_eq!(error["id"], Value::Null);
    server.await_log("ignored a message that is not JSON");
    assert_alive(&mut server);

    // JSON, but not a JSON-RPC message.
    server.send(&json!({"hello": "world"}));
    let error = server.await_message("an invalid request error", |m| m.get("error").is_some());
    assert_eq!(error["error"]["code"], -32600);
    assert_alive(&mut server);

    // A header without Content-Length, then a good message.
    server.send_raw(b"X-Nonsense: 1\r\n\r\n");
    assert_alive(&mut server);

    // Wrong parameter types for a known request.
    let error = server
        .call("textDocument/hover", json!({"textDocument": 42}))
        .expect_err("invalid params");
    assert_eq!(error["code"], -32602);
    assert_alive(&mut server);
    assert!(server.shutdown().success());
}

#[test]
fn unknown_methods() {
    let mut server = server();
    let error = server
        .call("threatlens/doesNotExist", json!({}))
        .expect_err("unknown request");
    assert_eq!(error["code"], -32601);
    // Unknown notifications (and `$/` ones) are ignored without an answer.
    server.notify("threatlens/whatever", json!({"x": 1}));
    server.notify("$/setTrace", json!({"value": "off"}));
    assert_alive(&mut server);
    let answers: Vec<Value> = server
        .pending()
        .into_iter()
        .filter(|m| m.get("error").is_some())
        .collect();
    assert!(answers.is_empty(), "{answers:#?}");
    assert!(server.shutdown().success());
}

#[test]
fn requests_before_initialize_are_refused() {
    let mut server = TestServer::spawn();
    let error = server
        .call(
            "textDocument/hover",
            json!({"textDocument": {"uri": "untitled:a.py"}, "position": {"line": 0, "character": 0}}),
        )
        .expect_err("not initialized");
    assert_eq!(error["code"], -32002);
    // A notification before initialize is dropped; initialize still works afterwards.
    open(&mut server, "untitled:early.py", "python", VULNERABLE);
    server.initialize(init_params(None, json!({"debounceMs": 0})));
    assert_alive(&mut server);
    // A second initialize is an invalid request.
    let error = server
        .call("initialize", init_params(None, json!({})))
        .expect_err("initialize twice");
    assert_eq!(error["code"], -32600);
    assert!(server.shutdown().success());
}

#[test]
fn changes_to_documents_that_are_not_open_are_ignored() {
    let mut server = server();
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": "untitled:never.py", "version": 2},
            "contentChanges": [{"text": "import torch\ntorch.load(p)\n"}],
        }),
    );
    server.await_log("untitled:never.py, which is not open: ignored");
    server.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": "untitled:never.py"}}),
    );
    server.await_log("didClose for untitled:never.py");
    server.notify(
        "notebookDocument/didChange",
        json!({"notebookDocument": {"uri": "file:///nb.ipynb", "version": 2}, "change": {}}),
    );
    server.await_log("file:///nb.ipynb, which is not open: ignored");
    assert_alive(&mut server);
    assert!(server.shutdown().success());
}

#[test]
fn out_of_range_edits_are_clamped_and_logged() {
    let uri = "untitled:range.py";
    let mut server = server();
    open(&mut server, uri, "python", "import torch\n");
    server.await_diagnostics(uri);
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": {"start": {"line": 40, "character": 3}, "end": {"line": 99, "character": 0}}, "text": "torch.load(p)\n"}],
        }),
    );
    server.await_log("outside the document");
    let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri && p["version"] == 2
    });
    // Clamped to the end: the text is appended.
    assert_eq!(codes(params["diagnostics"].as_array().unwrap()), ["TL110"]);
    assert_eq!(params["diagnostics"][0]["range"]["start"]["line"], 1);
    // A character past the end of a line, and a reversed range.
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 3},
            "contentChanges": [
                {"range": {"start": {"line": 0, "character": 500}, "end": {"line": 0, "character": 500}}, "text": " as torch"},
                {"range": {"start": {"line": 1, "character": 5}, "end": {"line": 1, "character": 0}}, "text": "torch"},
            ],
        }),
    );
    server.await_log("swapped");
    let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri && p["version"] == 3
    });
    assert_eq!(codes(params["diagnostics"].as_array().unwrap()), ["TL110"]);
    assert_alive(&mut server);
    assert!(server.shutdown().success());
}

#[test]
fn a_50_mb_document_is_not_analysed_and_the_server_stays_up() {
    let uri = "untitled:huge.py";
    let mut server = server();
    let line = "x = torch.load(p)  # padding padding padding padding padding padding\n";
    let text = line.repeat(50 * 1024 * 1024 / line.len() + 1);
    assert!(text.len() >= 50 * 1024 * 1024);
    open(&mut server, uri, "python", &text);
    server.await_log("over the 10.0 MB limit");
    assert_eq!(server.await_diagnostics(uri), Vec::<Value>::new());
    // Editing it still works (and is still not analysed).
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}}, "text": "y"}],
        }),
    );
    let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri && p["version"] == 2
    });
    assert_eq!(params["diagnostics"], json!([]));
    assert_alive(&mut server);
    assert!(server.shutdown().success());
}

#[test]
fn invalid_utf8_on_disk_is_analysed_and_logged() {
    let dir = TempDir::new("lsp-utf8");
    let mut bytes = b"import torch\nname = '\xff\xfe'\nm = torch.load(p)\n".to_vec();
    bytes.extend_from_slice(b"# \xc3\n");
    let path = dir.write("latin.py", &bytes);
    dir.write("binary.py", b"\x00\x01\x02torch.load(p)");
    let mut server = TestServer::spawn();
    server.initialize(init_params(Some(dir.path()), json!({})));
    server.await_log("not valid UTF-8");
    server.await_log("binary content");
    let diagnostics = server.await_diagnostics(&file_uri(&path));
    assert_eq!(codes(&diagnostics), ["TL110"]);
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 2);
    await_progress(&mut server, "end");
    assert_alive(&mut server);
    assert!(server.shutdown().success());
}

#[test]
fn files_deleted_while_scanning() {
    let dir = TempDir::new("lsp-deleted");
    let paths: Vec<_> = (0..6)
        .map(|i| dir.write(&format!("m{i}.py"), "import torch\ntorch.load(p)\n"))
        .collect();
    let mut server = TestServer::spawn();
    // The server lists the files, then asks for a progress token: delete half of them before
    // answering, so the analysis finds them gone.
    server.hold.push("window/workDoneProgress/create".into());
    server.initialize(init_params(Some(dir.path()), json!({})));
    let create = server.await_request("window/workDoneProgress/create");
    for path in paths.iter().step_by(2) {
        std::fs::remove_file(path).unwrap();
    }
    server.respond(&create["id"], Value::Null);
    let end = await_progress(&mut server, "end");
    assert!(
        end["value"]["message"]
            .as_str()
            .unwrap()
            .contains("3 files with problems"),
        "{end}"
    );
    server.await_log("deleted while being analysed?");
    for path in paths.iter().skip(1).step_by(2) {
        assert_eq!(codes(&server.await_diagnostics(&file_uri(path))), ["TL110"]);
    }
    assert_alive(&mut server);
    assert!(server.shutdown().success());
}

#[test]
fn a_panic_in_the_analysis_is_logged_and_the_server_carries_on() {
    let mut server = TestServer::spawn_with(&[("THREATLENS_LSP_TEST_PANIC_MARKER", "BOOM_BOOM")]);
    server.initialize(init_params(None, json!({"debounceMs": 0})));
    open(
        &mut server,
        "untitled:boom.py",
        "python",
        "import torch\n# BOOM_BOOM\n",
    );
    server.await_log("the analysis panicked");
    assert_alive(&mut server);
    open(&mut server, "untitled:fine.py", "python", VULNERABLE);
    assert_eq!(
        codes(&server.await_diagnostics("untitled:fine.py")),
        ["TL110"]
    );
    // Requests on the panicking document answer without findings.
    let hover = server.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": "untitled:boom.py"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(hover, Ok(Value::Null));
    assert!(server.shutdown().success());
}

#[test]
fn exit_codes() {
    // `exit` without `shutdown`: 1.
    let mut first = server();
    first.notify("exit", Value::Null);
    assert_eq!(first.wait().code(), Some(1));
    // The editor goes away (stdin closed): the server ends too.
    let mut second = server();
    second.close_stdin();
    second.wait();
}

#[test]
fn invalid_initialization_options_are_logged_and_defaults_used() {
    let mut server = TestServer::spawn();
    server.initialize(init_params(None, json!({"minimumSeverity": 5})));
    server.await_log("initializationOptions: invalid settings");
    let uri = "untitled:defaults.py";
    open(&mut server, uri, "python", VULNERABLE);
    assert_eq!(codes(&server.await_diagnostics(uri)), ["TL110"]);
    assert!(server.shutdown().success());
}

#[test]
fn cancelling_requests() {
    let mut server = server();
    // Cancelling something unknown or finished is not an error and gets no answer.
    server.notify("$/cancelRequest", json!({"id": 999}));
    let uri = "untitled:cancel.py";
    open(&mut server, uri, "python", VULNERABLE);
    server.await_diagnostics(uri);
    // A request cancelled right away is answered either way: with its result or with
    // RequestCancelled (-32800), never left hanging.
    let id = server.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 40}},
            "context": {"diagnostics": []},
        }),
    );
    server.notify("$/cancelRequest", json!({"id": id}));
    let response = server.await_response(&json!(id));
    if let Some(error) = response.get("error") {
        assert_eq!(error["code"], -32800);
    } else {
        assert!(response["result"].is_array());
    }
    assert_alive(&mut server);
    assert!(server.shutdown().success());
}

#[test]
fn settings_are_pulled_when_the_client_says_they_changed() {
    let mut server = server();
    server.hold.push("workspace/configuration".into());
    let uri = "untitled:pull.py";
    open(&mut server, uri, "python", VULNERABLE);
    assert_eq!(codes(&server.await_diagnostics(uri)), ["TL110"]);
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    let request = server.await_request("workspace/configuration");
    assert_eq!(request["params"]["items"][0]["section"], "threatlens");
    server.respond(
        &request["id"],
        json!([{"minimumSeverity": "high", "debounceMs": 0}]),
    );
    assert_eq!(server.await_diagnostics(uri), Vec::<Value>::new());
    assert!(server.shutdown().success());
}

#[test]
fn utf8_positions_when_the_client_offers_them() {
    let mut server = TestServer::spawn();
    let mut params = init_params(None, json!({"debounceMs": 0}));
    params["capabilities"]["general"] = json!({"positionEncodings": ["utf-8", "utf-16"]});
    let result = server.initialize(params);
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-8");
    let uri = "untitled:utf8.py";
    open(&mut server, uri, "python", VULNERABLE);
    let diagnostics = server.await_diagnostics(uri);
    // `name = "héllo 😀"; m = ` is 26 bytes (é is 2, the emoji 4).
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({"line": 1, "character": 26})
    );
    // Edits use bytes too.
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": {"start": {"line": 1, "character": 41}, "end": {"line": 1, "character": 41}}, "text": ", weights_only=True"}],
        }),
    );
    let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri && p["version"] == 2
    });
    assert_eq!(params["diagnostics"], json!([]));
    assert!(server.shutdown().success());
}

/// With `logTimings`, every analysis of an open document says how much it re-analysed, and,
/// when it analysed the whole file, why.
#[test]
fn timings_say_what_each_keystroke_re_analysed() {
    let mut server = TestServer::spawn();
    server.initialize(init_params(
        None,
        json!({"debounceMs": 0, "logTimings": true}),
    ));
    let uri = "untitled:timings.py";
    let text = "import pickle\n\n\ndef load(path):\n    data = open(path, 'rb').read()\n    return pickle.loads(data)\n";
    open(&mut server, uri, "python", text);
    server.await_log("timings.py v1: reparse");
    let change = |server: &mut TestServer,
                  version: i64,
                  line: u32,
                  character: u32,
                  insert: &str| {
        server.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{
                    "range": {"start": {"line": line, "character": character}, "end": {"line": line, "character": character}},
                    "text": insert,
                }],
            }),
        );
    };
    let message = |log: &Value| log["message"].as_str().unwrap_or_default().to_string();
    // Typing into a function body re-walks only that function.
    change(&mut server, 2, 4, 8, "x");
    let log = server.await_log("timings.py v2:");
    assert!(
        message(&log).contains("(one function re-analysed)"),
        "{log}"
    );
    // Typing into the import re-walks the function that names the module.
    change(&mut server, 3, 0, 13, "x");
    let log = server.await_log("timings.py v3:");
    assert!(
        message(&log)
            .contains("(an import edited: the functions naming what it binds re-analysed)"),
        "{log}"
    );
    // The start of a statement typed at module level only moves the findings.
    change(&mut server, 4, 1, 0, "x");
    let log = server.await_log("timings.py v4:");
    assert!(
        message(&log).contains("(the start of a statement typed)"),
        "{log}"
    );
    // A bracket opened after it analyses the whole file, and says why.
    change(&mut server, 5, 1, 1, "(");
    let log = server.await_log("timings.py v5:");
    assert!(message(&log).contains("(the whole file: "), "{log}");
    // Deleting it goes back to a text analysed before.
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 6},
            "contentChanges": [{
                "range": {"start": {"line": 1, "character": 1}, "end": {"line": 1, "character": 2}},
                "text": "",
            }],
        }),
    );
    let log = server.await_log("timings.py v6:");
    assert!(message(&log).contains("(back to an earlier text)"), "{log}");
    // … whose tree it parsed then.
    assert!(
        message(&log).contains("no reparse (the tree of an earlier parse of this text)"),
        "{log}"
    );
    // Enter on a blank line only moves the findings.
    change(&mut server, 7, 2, 0, "\n");
    let log = server.await_log("timings.py v7:");
    assert!(message(&log).contains("(blank lines edited)"), "{log}");
    assert!(message(&log).contains("v7: reparse "), "{log}");
    // Renaming the function re-walks the functions that name it (none).
    change(&mut server, 8, 4, 8, "x");
    let log = server.await_log("timings.py v8:");
    assert!(
        message(&log).contains("(a name renamed: the functions naming it re-analysed)"),
        "{log}"
    );
    assert!(server.shutdown().success());
}

//! End-to-end tests of `threatlens lsp`: the real binary, JSON-RPC over its stdio.

use serde_json::{Value, json};
use threatlens_tests::TempDir;
use threatlens_tests::lsp_client::{TestServer, apply_edits, edits_for, file_uri};

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

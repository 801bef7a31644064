//! The threat-model diagram, end to end: `threatlens diagram` on the command line, and the
//! language server's `threatlens.diagram` command (`workspace/executeCommand`) on unsaved
//! buffers.

use serde_json::{Value, json};
use std::path::Path;
use threatlens_tests::lsp_client::{TempDir, TestServer, file_uri};
use threatlens_tests::{repo_root, run, stderr, stdout, write_files};

const TODAY: &str = "2026-11-28";

/// A user talks to an LLM with nothing in between (TM101 on `bot`).
const MODEL: &str = "schema: threatlens/v1
metadata: {id: demo, title: Demo bot}
scope: {statement: Demo.}
trust_boundaries:
  - {id: internet, trust: untrusted, contains: [user]}
  - {id: app, name: App VPC, kind: network, trust: trusted, contains: [bot, notes]}
components:
  - {id: user, kind: external-entity, human: true}
  - {id: bot, name: Help bot, kind: llm}
  - {id: notes, kind: data-store}
flows:
  - {id: ask, from: user, to: bot, protocol: http, encryption: none}
  - {id: save, from: bot, to: notes}
";

fn diagram(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["diagram", "--today", TODAY];
    all.extend_from_slice(args);
    run(dir, &all)
}

#[test]
fn mermaid_on_stdout_by_default() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("threatmodel.yaml", MODEL)]);
    let output = diagram(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let text = stdout(&output);
    assert!(text.starts_with("%% Demo bot\nflowchart LR\n"), "{text}");
    for needle in [
        "  subgraph b_app[\"App VPC · app (trusted network)\"]\n",
        "    c_bot{{\"Help bot<br/>bot · LLM<br/>⚠ TM101",
        "    c_notes[(\"notes<br/>data store\")]\n",
        "  c_user -->|\"ask<br/>http<br/>⚠ unencrypted\"| c_bot\n",
        "  class c_bot finding\n",
    ] {
        assert!(text.contains(needle), "no {needle:?} in\n{text}");
    }
}

#[test]
fn dot_and_svg_to_a_file_or_stdout() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("threatmodel.yaml", MODEL)]);

    let output = diagram(
        dir.path(),
        &["threatmodel.yaml", "--format", "dot", "-o", "model.dot"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "", "the diagram went to the file");
    let dot = std::fs::read_to_string(dir.path().join("model.dot")).unwrap();
    assert!(dot.starts_with("digraph \"threat model\" {\n"), "{dot}");
    assert!(dot.contains("  subgraph \"cluster_app\" {\n"), "{dot}");
    assert!(
        dot.contains("\"user\" -> \"bot\" [label=\"ask\\nhttp\\n⚠ unencrypted\""),
        "{dot}"
    );

    let output = diagram(dir.path(), &["--format", "svg"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let svg = stdout(&output);
    assert!(svg.starts_with("<?xml"), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    assert!(svg.contains(">Help bot<"), "{svg}");
}

#[test]
fn the_example_is_drawn_as_the_golden_file_says() {
    let example = repo_root().join("threat-models/examples/rag-chatbot");
    let output = diagram(&repo_root(), &[example.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let golden =
        std::fs::read_to_string(repo_root().join("threat-models/tests/golden/rag-chatbot.mmd"))
            .unwrap();
    assert_eq!(stdout(&output), golden);
}

#[test]
fn the_configured_model_and_its_ignores_apply() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            (
                "threatlens.toml",
                "model = \"security/tm.yaml\"\nignore = [\"TM101\"]\n",
            ),
            ("security/tm.yaml", MODEL),
            ("src/app.py", "print(1)\n"),
        ],
    );
    // From a subdirectory: the configuration is found walking up, like `check` does.
    let output = diagram(&dir.path().join("src"), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    // TM101 (no input guardrail) is ignored; the other missing controls are still marked.
    assert!(
        text.contains("c_bot{{\"Help bot<br/>bot · LLM<br/>⚠ TM103, "),
        "{text}"
    );
    assert!(!text.contains("TM101"), "ignored: {text}");
}

#[test]
fn a_missing_or_unreadable_model_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = diagram(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    let error = stderr(&output);
    assert!(
        error.starts_with("error: no threat model: ") && error.contains("threatlens init"),
        "{error}"
    );

    let output = diagram(dir.path(), &["nowhere.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: nowhere.yaml does not exist\n",
        "{output:?}"
    );

    std::fs::write(dir.path().join("binary.yaml"), b"schema: \xff\xfe\n").unwrap();
    let output = diagram(dir.path(), &["binary.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("not UTF-8"), "{}", stderr(&output));

    // A configured model that does not exist.
    write_files(dir.path(), &[("threatlens.toml", "model = \"tm.yaml\"\n")]);
    let output = diagram(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("(`model =` in threatlens.toml)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_broken_model_is_drawn_as_far_as_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let broken = MODEL
        .replace("to: notes}", "to: nowhere}")
        .replace("kind: data-store", "kind: data-stor");
    write_files(dir.path(), &[("threatmodel.yaml", &broken)]);
    let output = diagram(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("c_bot{{"), "{text}");
    assert!(
        !text.contains("save"),
        "the dangling flow is left out: {text}"
    );
    let errors = stderr(&output);
    assert!(
        errors.contains("warning: threatmodel.yaml:10:")
            && errors.contains("TM008")
            && errors.contains("warning: threatmodel.yaml:13:")
            && errors.contains("the diagram shows what could be read"),
        "{errors}"
    );

    // Nothing readable at all: nothing to draw.
    write_files(
        dir.path(),
        &[("threatmodel.yaml", "schema: [threatlens/v1\n")],
    );
    let output = diagram(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    let errors = stderr(&output);
    assert!(
        errors.contains("TM001") && errors.contains("error: nothing to draw"),
        "{errors}"
    );
}

#[test]
fn help_documents_the_command() {
    let help = stdout(&run(Path::new("."), &["--help"]));
    assert!(help.contains("diagram"), "{help}");
    let help = stdout(&run(Path::new("."), &["diagram", "--help"]));
    for needle in ["mermaid", "dot", "svg", "--output", "[PATH]"] {
        assert!(help.contains(needle), "no {needle} in\n{help}");
    }
    let bad = run(Path::new("."), &["diagram", "--format", "png"]);
    assert_eq!(bad.status.code(), Some(2));
}

// ----- the language server -----------------------------------------------------------------

fn server_in(root: Option<&Path>) -> TestServer {
    let mut server = TestServer::spawn_with(&[("THREATLENS_TODAY", TODAY)]);
    let folders = root.map(|r| json!([{"uri": file_uri(r), "name": "root"}]));
    let result = server.initialize(json!({
        "processId": null,
        "rootUri": root.map(file_uri),
        "workspaceFolders": folders,
        "capabilities": TestServer::client_capabilities(),
        "initializationOptions": {"debounceMs": 0, "scanWorkspace": false},
    }));
    assert_eq!(
        result["capabilities"]["executeCommandProvider"]["commands"],
        json!(["threatlens.diagram"])
    );
    server
}

fn execute(server: &mut TestServer, arguments: Value) -> Result<Value, Value> {
    server.call(
        "workspace/executeCommand",
        json!({"command": "threatlens.diagram", "arguments": arguments}),
    )
}

#[test]
fn the_server_draws_the_unsaved_buffer() {
    let dir = TempDir::new("diagram-lsp");
    let path = dir.write("threatmodel.yaml", MODEL);
    let uri = file_uri(&path);
    let mut server = server_in(Some(dir.path()));

    // Nothing open: the workspace's model, from disk.
    let result = execute(&mut server, json!([])).expect("diagram");
    assert_eq!(result["format"], "mermaid");
    assert_eq!(result["uri"], uri);
    assert_eq!(result["modelErrors"], 0);
    let text = result["text"].as_str().unwrap();
    assert!(
        text.contains("c_notes[(\"notes<br/>data store\")]"),
        "{text}"
    );

    // An unsaved edit renames a component: the diagram follows the buffer, not the file.
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": MODEL}}),
    );
    let edited = MODEL
        .replace("[bot, notes]", "[bot, archive]")
        .replace(
            "{id: notes, kind: data-store}",
            "{id: archive, kind: vector-store}",
        )
        .replace("to: notes}", "to: archive}");
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let result = execute(&mut server, json!([{"uri": uri}])).expect("diagram");
    let text = result["text"].as_str().unwrap();
    assert!(
        text.contains("c_archive[(\"archive<br/>vector store\")]") && !text.contains("c_notes"),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), MODEL, "not saved");

    // Any file of the workspace leads to its model; formats on request.
    let code = file_uri(&dir.write("src/app.py", "print(1)\n"));
    let result = execute(&mut server, json!([{"uri": code, "format": "dot"}])).expect("dot");
    assert_eq!(result["format"], "dot");
    let dot = result["text"].as_str().unwrap();
    assert!(
        dot.contains("\"archive\" [label=\"archive\\nvector store\""),
        "{dot}"
    );
    let result = execute(&mut server, json!([{"format": "svg"}])).expect("svg");
    let svg = result["text"].as_str().unwrap();
    assert!(svg.contains("<svg") && svg.contains(">archive<"), "{svg}");

    // A broken buffer still draws what it can, and says how many errors it has.
    let broken = edited.replace("kind: llm", "kind: lm");
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": broken}]}),
    );
    let result = execute(&mut server, json!([{"uri": uri}])).expect("diagram");
    assert_eq!(result["modelErrors"], 1, "{result:#}");
    assert!(result["text"].as_str().unwrap().contains("c_archive"));

    assert!(server.shutdown().success());
}

#[test]
fn bad_arguments_and_unknown_commands_are_errors() {
    let dir = TempDir::new("diagram-lsp-errors");
    let mut server = server_in(Some(dir.path()));
    for (arguments, message) in [
        (json!([{"format": "png"}]), "unknown diagram format `png`"),
        (json!([{"uri": 42}]), "`uri` must be a string"),
        (json!(["file:///x", "svg"]), "at most one argument"),
        (json!([{"colour": "red"}]), "unknown argument `colour`"),
    ] {
        let error = execute(&mut server, arguments.clone()).expect_err("an error");
        assert_eq!(error["code"], -32602, "{arguments}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains(message),
            "{arguments}: {error}"
        );
    }
    // Valid arguments, but no model in this workspace.
    let error = execute(&mut server, json!([])).expect_err("no model");
    assert_eq!(error["code"], -32803, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no threat model"),
        "{error}"
    );
    let error = server
        .call(
            "workspace/executeCommand",
            json!({"command": "threatlens.explode", "arguments": []}),
        )
        .expect_err("unknown command");
    assert_eq!(error["code"], -32602, "{error}");
    assert!(server.is_alive());
    assert!(server.shutdown().success());
}

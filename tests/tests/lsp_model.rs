//! End-to-end tests of `threatlens lsp` on threat-model files: the real binary, JSON-RPC over its
//! stdio. Diagnostics as you type, completion, hover, definition, references, outline, rename,
//! the add-a-control code action, included files and the workspace's model.

use serde_json::{Value, json};
use threatlens_tests::lsp_client::{OnDisk, TempDir, TestServer, apply_edits, edits_for, file_uri};

/// "Today" for the server's governance checks.
const TODAY: &str = "2026-11-28";

/// A user talks to an LLM with nothing in between (TM101 on `bot`, line 7).
const MODEL: &str = "schema: threatlens/v1
scope: {statement: Demo.}
trust_boundaries:
  - {id: internet, trust: untrusted, contains: [user]}
  - {id: app, trust: trusted, contains: [bot]}
components:
  - {id: user, kind: external-entity, human: true}
  - id: bot
    name: Help bot
    kind: llm
flows:
  - {id: ask, from: user, to: bot}
controls:
  - {id: ctl-authn, capability: authn, status: implemented, iso27001: [A.8.5]}
threats:
  - id: t1
    title: Prompt injection
    affects: [bot]
    library: AITL-001
    owasp_llm: [LLM01:2025]
    treatment: {decision: mitigate, controls: [ctl-authn], owner: team, status: open}
";

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

fn spawn() -> TestServer {
    TestServer::spawn_with(&[("THREATLENS_TODAY", TODAY)])
}

/// A server without a workspace (no scan) and without debounce.
fn server() -> TestServer {
    let mut server = spawn();
    server.initialize(init_params(None, json!({"debounceMs": 0})));
    server
}

fn open(server: &mut TestServer, uri: &str, language: &str, text: &str) {
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
    );
}

fn replace(server: &mut TestServer, uri: &str, version: i64, text: &str) {
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
    );
}

/// Diagnostics published for `uri` at `version`.
fn diagnostics_at(server: &mut TestServer, uri: &str, version: Option<i64>) -> Vec<Value> {
    let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri && version.is_none_or(|v| p["version"] == v)
    });
    params["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits for diagnostics for `uri` whose rule codes satisfy `pred` (skipping earlier ones: the
/// model is re-checked, and every file re-published, whenever any file of it changes).
fn diagnostics_where(
    server: &mut TestServer,
    uri: &str,
    pred: impl Fn(&[&str]) -> bool,
) -> Vec<Value> {
    let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri && pred(&codes(p["diagnostics"].as_array().map_or(&[][..], |d| d)))
    });
    params["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect()
}

/// The LSP position of the first `needle` on 0-based `line` (ASCII text: UTF-16 = bytes).
fn at(text: &str, line: usize, needle: &str) -> Value {
    let content = text.lines().nth(line).unwrap_or_default();
    let character = content
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not on line {line}: {content:?}"));
    json!({"line": line, "character": character})
}

fn range(text: &str, line: usize, needle: &str) -> Value {
    let start = at(text, line, needle);
    let end = json!({"line": line, "character": start["character"].as_u64().unwrap() as usize + needle.len()});
    json!({"start": start, "end": end})
}

fn position_params(uri: &str, position: Value) -> Value {
    json!({"textDocument": {"uri": uri}, "position": position})
}

fn labels(completion: &Value) -> Vec<String> {
    let items = completion["items"]
        .as_array()
        .or_else(|| completion.as_array())
        .cloned()
        .unwrap_or_default();
    items
        .iter()
        .filter_map(|i| i["label"].as_str().map(str::to_owned))
        .collect()
}

fn item<'a>(completion: &'a Value, label: &str) -> &'a Value {
    completion["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["label"] == label))
        .unwrap_or_else(|| panic!("no completion item {label}: {completion:#}"))
}

fn hover_text(server: &mut TestServer, uri: &str, position: Value) -> String {
    let hover = server
        .call("textDocument/hover", position_params(uri, position))
        .expect("hover");
    hover["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn diagnostics_as_you_type_with_versions() {
    let dir = TempDir::new("model-diags");
    let path = dir.write("threatmodel.yaml", MODEL);
    let uri = file_uri(&path);
    let mut server = server();
    open(&mut server, &uri, "yaml", MODEL);

    let diagnostics = diagnostics_at(&mut server, &uri, Some(1));
    let tm101 = diagnostics
        .iter()
        .find(|d| d["code"] == "TM101")
        .unwrap_or_else(|| panic!("TM101: {diagnostics:#?}"));
    assert_eq!(tm101["range"], range(MODEL, 7, "bot"));
    assert_eq!(tm101["severity"], 1, "high is an error");
    assert_eq!(tm101["source"], "threatlens");
    assert_eq!(tm101["data"]["category"], "missing-control");
    assert_eq!(tm101["data"]["target"], "bot");
    assert_eq!(tm101["data"]["missing"], json!(["input-guardrail"]));
    assert!(
        !codes(&diagnostics).iter().any(|c| c.starts_with("TM0")),
        "no model errors: {diagnostics:#?}"
    );

    // A typo: an unknown enum value, at its place, in the version that has it.
    let typo = MODEL.replace("    kind: llm\n", "    kind: lm\n");
    replace(&mut server, &uri, 2, &typo);
    let diagnostics = diagnostics_at(&mut server, &uri, Some(2));
    let unknown = diagnostics
        .iter()
        .find(|d| d["code"] == "TM008")
        .unwrap_or_else(|| panic!("TM008: {diagnostics:#?}"));
    assert_eq!(unknown["range"], range(&typo, 9, "lm"));
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `llm`?")
    );

    // Broken YAML is a diagnostic too, and the server carries on.
    let broken = MODEL.replace(
        "  - {id: ask, from: user, to: bot}",
        "  - {id: ask, from: user, to: bot",
    );
    replace(&mut server, &uri, 3, &broken);
    let diagnostics = diagnostics_at(&mut server, &uri, Some(3));
    assert!(codes(&diagnostics).contains(&"TM001"), "{diagnostics:#?}");

    replace(&mut server, &uri, 4, MODEL);
    let diagnostics = diagnostics_at(&mut server, &uri, Some(4));
    assert!(codes(&diagnostics).contains(&"TM101"));
    assert!(!codes(&diagnostics).contains(&"TM008"));

    // Closing the file clears its diagnostics (no workspace: nobody checks it from disk).
    server.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(diagnostics_at(&mut server, &uri, None), Vec::<Value>::new());
    assert!(server.shutdown().success());
}

#[test]
fn rapid_edits_publish_the_latest_version_only_once_debounced() {
    let dir = TempDir::new("model-debounce");
    let path = dir.write("threatmodel.yaml", MODEL);
    let uri = file_uri(&path);
    let mut server = spawn();
    server.initialize(init_params(None, json!({"debounceMs": 500})));
    open(&mut server, &uri, "yaml", MODEL);
    diagnostics_at(&mut server, &uri, Some(1));
    for version in 2..=6 {
        let text = MODEL.replace("Help bot", &format!("Help bot {version}"));
        replace(&mut server, &uri, version, &text);
    }
    let diagnostics = diagnostics_at(&mut server, &uri, Some(6));
    assert!(codes(&diagnostics).contains(&"TM101"));
    // Nothing for the intermediate versions.
    let stale: Vec<Value> = server
        .pending()
        .into_iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] != 6)
        .collect();
    assert!(stale.is_empty(), "{stale:#?}");
}

#[test]
fn which_yaml_files_are_models() {
    let dir = TempDir::new("model-which");
    let mut server = server();
    // By its schema tag, whatever its name.
    let tagged = file_uri(&dir.write("security/model.yml", MODEL));
    open(&mut server, &tagged, "yaml", MODEL);
    assert!(codes(&diagnostics_at(&mut server, &tagged, Some(1))).contains(&"TM101"));

    // Other YAML is not ours: no diagnostics, no outline.
    let ci = file_uri(&dir.write("ci.yaml", "jobs:\n  build: {runs-on: linux}\n"));
    open(
        &mut server,
        &ci,
        "yaml",
        "jobs:\n  build: {runs-on: linux}\n",
    );
    let symbols = server
        .call(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": ci}}),
        )
        .expect("documentSymbol");
    assert_eq!(symbols, Value::Null);
    let published: Vec<Value> = server
        .pending()
        .into_iter()
        .filter(|m| m["params"]["uri"] == ci.as_str())
        .collect();
    assert!(
        published
            .iter()
            .all(|m| m["params"]["diagnostics"] == json!([])),
        "no findings on ci.yaml: {published:#?}"
    );
    // Until it says it is a model.
    replace(
        &mut server,
        &ci,
        2,
        "schema: threatlens/v1\ncomponents: [{id: x, kind: lm}]\n",
    );
    assert!(codes(&diagnostics_at(&mut server, &ci, Some(2))).contains(&"TM008"));

    // `threatmodel.yaml` is one by its name, even before the tag is typed.
    let named = file_uri(&dir.write("threatmodel.yaml", "assets: []\n"));
    open(&mut server, &named, "yaml", "assets: []\n");
    assert!(codes(&diagnostics_at(&mut server, &named, Some(1))).contains(&"TM009"));
    assert!(server.shutdown().success());
}

#[test]
fn completion_of_ids_enums_capabilities_and_catalogue_ids() {
    let dir = TempDir::new("model-completion");
    let uri = file_uri(&dir.write("threatmodel.yaml", MODEL));
    let mut server = server();
    open(&mut server, &uri, "yaml", MODEL);
    diagnostics_at(&mut server, &uri, Some(1));

    // Editing, block style: a new flow whose `to:` is being typed.
    let text = MODEL.replace(
        "  - {id: ask, from: user, to: bot}\n",
        "  - {id: ask, from: user, to: bot}\n  - id: answer\n    from: bot\n    to: us\n",
    );
    replace(&mut server, &uri, 2, &text);
    diagnostics_at(&mut server, &uri, Some(2));
    let line = 14; // `    to: us`
    let position = json!({"line": line, "character": 10});
    let completion = server
        .call("textDocument/completion", position_params(&uri, position))
        .expect("completion");
    // Components only: `to:` names a component.
    assert_eq!(labels(&completion), ["bot", "user"]);
    let user = item(&completion, "user");
    assert_eq!(user["kind"], 18, "a reference");
    assert_eq!(user["detail"], "component");
    // The item replaces what was typed.
    assert_eq!(
        user["textEdit"],
        json!({"range": range(&text, line, "us"), "newText": "user"})
    );
    assert_eq!(item(&completion, "bot")["detail"], "component — Help bot");

    // Enum values for `kind:` of a component.
    let kind = server
        .call(
            "textDocument/completion",
            position_params(&uri, json!({"line": 9, "character": 10})),
        )
        .expect("completion");
    let kinds = labels(&kind);
    for expected in ["external-entity", "llm", "vector-store", "agent"] {
        assert!(kinds.contains(&expected.to_owned()), "{kinds:?}");
    }
    assert!(
        !kinds.contains(&"model-weights".to_owned()),
        "asset kinds are not component kinds"
    );

    // Capabilities with their meaning, Annex A ids with their titles.
    let capability = server
        .call(
            "textDocument/completion",
            position_params(&uri, at(&text, 16, "authn, status")),
        )
        .expect("completion");
    let guardrail = item(&capability, "input-guardrail");
    assert!(
        guardrail["documentation"]["value"]
            .as_str()
            .unwrap()
            .contains("prompt injection"),
        "{guardrail:#}"
    );
    let annex = server
        .call(
            "textDocument/completion",
            position_params(&uri, at(&text, 16, "A.8.5")),
        )
        .expect("completion");
    assert_eq!(item(&annex, "A.8.5")["detail"], "Secure authentication");
    assert!(labels(&annex).len() >= 93, "the 93 controls");
    let owasp = server
        .call(
            "textDocument/completion",
            position_params(&uri, at(&text, 22, "LLM01")),
        )
        .expect("completion");
    assert_eq!(item(&owasp, "LLM01:2025")["detail"], "Prompt Injection");
    assert!(!labels(&owasp).iter().any(|l| l.starts_with("ML")));
    let library = server
        .call(
            "textDocument/completion",
            position_params(&uri, at(&text, 21, "AITL")),
        )
        .expect("completion");
    assert!(
        item(&library, "AITL-001")["detail"]
            .as_str()
            .unwrap()
            .contains("prompt injection")
    );

    // Keys of a mapping, with the format's description.
    let keys_text = text.replace("    name: Help bot\n", "    name: Help bot\n    su\n");
    replace(&mut server, &uri, 3, &keys_text);
    diagnostics_at(&mut server, &uri, Some(3));
    let keys = server
        .call(
            "textDocument/completion",
            position_params(&uri, json!({"line": 9, "character": 6})),
        )
        .expect("completion");
    let supplier = item(&keys, "supplier");
    assert_eq!(supplier["textEdit"]["newText"], "supplier: ");
    assert!(labels(&keys).contains(&"controls".to_owned()));

    // In the middle of typing a flow mapping the YAML does not parse: ids still complete.
    let half = format!(
        "{}  - {{id: new, from: \n",
        MODEL.split("controls:\n").next().unwrap()
    );
    replace(&mut server, &uri, 4, &half);
    assert!(codes(&diagnostics_at(&mut server, &uri, Some(4))).contains(&"TM001"));
    let line = half.lines().count() - 1;
    let ids = server
        .call(
            "textDocument/completion",
            position_params(&uri, json!({"line": line, "character": 20})),
        )
        .expect("completion");
    assert!(labels(&ids).contains(&"user".to_owned()), "{ids:#}");
    assert!(server.shutdown().success());
}

#[test]
fn hovers_explain_ids_catalogue_values_and_findings() {
    let dir = TempDir::new("model-hover");
    let uri = file_uri(&dir.write("threatmodel.yaml", MODEL));
    let mut server = server();
    open(&mut server, &uri, "yaml", MODEL);
    diagnostics_at(&mut server, &uri, Some(1));

    // A reference: what it refers to.
    let text = hover_text(&mut server, &uri, at(MODEL, 11, "bot"));
    assert!(text.starts_with("**component** `bot` — Help bot"), "{text}");
    assert!(text.contains("- kind: `llm`"), "{text}");
    assert!(
        text.contains("Defined in `threatmodel.yaml` line 8"),
        "{text}"
    );
    assert!(text.contains("referenced 3 times"), "{text}");
    // The definition carries the finding raised on it, with the rule's documentation.
    let text = hover_text(&mut server, &uri, at(MODEL, 7, "bot"));
    assert!(text.contains("**threatlens TM101** (high)"), "{text}");
    assert!(
        text.contains("**Why it matters**") && text.contains("LLM01:2025"),
        "{text}"
    );
    // A control: its capability and what that means.
    let text = hover_text(&mut server, &uri, at(MODEL, 20, "ctl-authn"));
    assert!(text.starts_with("**control** `ctl-authn`"), "{text}");
    assert!(text.contains("- capability: `authn`") && text.contains("- status: `implemented`"));
    // Catalogue values.
    let text = hover_text(&mut server, &uri, at(MODEL, 13, "A.8.5"));
    assert_eq!(
        text,
        "**ISO/IEC 27001:2022 Annex A A.8.5** — Secure authentication\n"
    );
    let text = hover_text(&mut server, &uri, at(MODEL, 13, "authn, status"));
    assert!(text.starts_with("**capability `authn`** — "), "{text}");
    let text = hover_text(&mut server, &uri, at(MODEL, 18, "AITL-001"));
    assert!(
        text.starts_with("**AI threat library AITL-001** — "),
        "{text}"
    );
    assert!(text.contains("AML.T0051.000"), "{text}");
    let text = hover_text(&mut server, &uri, at(MODEL, 19, "LLM01"));
    assert_eq!(
        text,
        "**OWASP Top 10 for LLM Applications LLM01:2025** — Prompt Injection\n"
    );
    // A key: the format's description of it.
    let text = hover_text(&mut server, &uri, at(MODEL, 17, "affects"));
    assert!(
        text.contains("Components and flows the threat affects."),
        "{text}"
    );
    // Nothing to say on free text.
    let nothing = server
        .call(
            "textDocument/hover",
            position_params(&uri, at(MODEL, 16, "injection")),
        )
        .expect("hover");
    assert_eq!(nothing, Value::Null);
    assert!(server.shutdown().success());
}

#[test]
fn outline_of_sections_and_elements() {
    let dir = TempDir::new("model-symbols");
    let uri = file_uri(&dir.write("threatmodel.yaml", MODEL));
    let mut server = server();
    open(&mut server, &uri, "yaml", MODEL);
    let symbols = server
        .call(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        )
        .expect("documentSymbol");
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "schema",
            "scope",
            "trust_boundaries",
            "components",
            "flows",
            "controls",
            "threats"
        ]
    );
    let components = &symbols[3];
    assert_eq!(components["detail"], "2 items");
    assert_eq!(
        components["range"],
        json!({"start": {"line": 5, "character": 0}, "end": {"line": 9, "character": 13}})
    );
    let children = components["children"].as_array().unwrap();
    let names: Vec<&str> = children
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["user", "bot"]);
    assert_eq!(children[1]["detail"], "Help bot");
    assert_eq!(children[1]["kind"], 5, "components are classes");
    assert_eq!(children[1]["selectionRange"], range(MODEL, 7, "bot"));
    assert_eq!(
        children[1]["range"],
        json!({"start": {"line": 7, "character": 4}, "end": {"line": 9, "character": 13}})
    );
    assert_eq!(symbols[6]["children"][0]["detail"], "Prompt injection");
    assert!(server.shutdown().success());
}

#[test]
fn code_action_adds_a_control_stub() {
    let dir = TempDir::new("model-stub");
    let uri = file_uri(&dir.write("threatmodel.yaml", MODEL));
    let mut server = server();
    open(&mut server, &uri, "yaml", MODEL);
    let diagnostics = diagnostics_at(&mut server, &uri, Some(1));
    let tm101 = diagnostics
        .iter()
        .find(|d| d["code"] == "TM101")
        .cloned()
        .expect("TM101");
    let actions = server
        .call(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri},
                "range": tm101["range"],
                "context": {"diagnostics": [tm101]},
            }),
        )
        .expect("code actions");
    let actions = actions.as_array().unwrap();
    let action = actions
        .iter()
        .find(|a| {
            a["title"] == "Add a planned `input-guardrail` control (`ctl-input-guardrail`) to `bot`"
        })
        .unwrap_or_else(|| panic!("{actions:#?}"));
    assert_eq!(action["kind"], "quickfix");
    assert_eq!(action["isPreferred"], true);
    assert_eq!(action["diagnostics"][0]["code"], "TM101");
    // One exact edit: a control entry in the file's style, and the reference from `bot`.
    let changes = action["edit"]["documentChanges"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["textDocument"]["version"], 1);
    let edited = apply_edits(MODEL, &edits_for(&action["edit"], &uri));
    let expected = MODEL
        .replace(
            "    kind: llm\n",
            "    kind: llm\n    controls: [ctl-input-guardrail]\n",
        )
        .replace(
            "iso27001: [A.8.5]}\n",
            "iso27001: [A.8.5]}\n  - {id: ctl-input-guardrail, capability: input-guardrail, status: planned, title: input-guardrail for bot}\n",
        );
    assert_eq!(edited, expected);

    // Applied: valid; still planned, so TM101 stays; implemented, it goes.
    replace(&mut server, &uri, 2, &edited);
    let diagnostics = diagnostics_at(&mut server, &uri, Some(2));
    assert!(codes(&diagnostics).contains(&"TM101"));
    assert!(
        !codes(&diagnostics).iter().any(|c| c.starts_with("TM0")),
        "{diagnostics:#?}"
    );
    let done = edited.replace("status: planned", "status: implemented");
    replace(&mut server, &uri, 3, &done);
    let diagnostics = diagnostics_at(&mut server, &uri, Some(3));
    assert!(!codes(&diagnostics).contains(&"TM101"), "{diagnostics:#?}");

    // Nothing to add away from missing-control findings.
    let none = server
        .call(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri},
                "range": range(MODEL, 1, "scope"),
                "context": {"diagnostics": []},
            }),
        )
        .expect("code actions");
    assert_eq!(none, json!([]));
    assert!(server.shutdown().success());
}

const ROOT: &str = "schema: threatlens/v1
includes: [parts/components.yaml]
scope: {statement: Demo.}
trust_boundaries:
  - {id: internet, trust: untrusted, contains: [user]}
  - {id: app, trust: trusted, contains: [bot]}
flows:
  - {id: ask, from: user, to: \"bot\"}
";

const PART: &str = "schema: threatlens/v1
components:
  - {id: user, kind: external-entity, human: true}
  - {id: bot, kind: llm}
";

#[test]
fn definition_references_and_rename_across_included_files() {
    let dir = TempDir::new("model-nav");
    let root_uri = file_uri(&dir.write("threatmodel.yaml", ROOT));
    let part_uri = file_uri(&dir.write("parts/components.yaml", PART));
    let mut server = server();
    open(&mut server, &root_uri, "yaml", ROOT);
    // Both files get their diagnostics from the one analysis; the part is not open (no version).
    let part = diagnostics_at(&mut server, &part_uri, None);
    assert!(codes(&part).contains(&"TM101"), "{part:#?}");
    let root = diagnostics_at(&mut server, &root_uri, Some(1));
    assert!(
        !codes(&root).iter().any(|c| c.starts_with("TM0")),
        "{root:#?}"
    );

    // Go to definition: from the root to the included file (inside the quotes).
    let definition = server
        .call(
            "textDocument/definition",
            position_params(&root_uri, at(ROOT, 7, "bot")),
        )
        .expect("definition");
    assert_eq!(
        definition,
        json!({"uri": part_uri, "range": range(PART, 3, "bot")})
    );

    // Open the part too: requests there see the same model.
    open(&mut server, &part_uri, "yaml", PART);
    diagnostics_at(&mut server, &part_uri, Some(1));
    let references = server
        .call(
            "textDocument/references",
            json!({
                "textDocument": {"uri": part_uri},
                "position": at(PART, 3, "bot"),
                "context": {"includeDeclaration": true},
            }),
        )
        .expect("references");
    let mut found: Vec<(String, Value)> = references
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["uri"].as_str().unwrap().to_owned(), l["range"].clone()))
        .collect();
    found.sort_by_key(|(uri, range)| (uri.clone(), range["start"]["line"].as_u64()));
    let mut expected = vec![
        (part_uri.clone(), range(PART, 3, "bot")),
        (root_uri.clone(), range(ROOT, 5, "bot")),
        (root_uri.clone(), range(ROOT, 7, "bot")),
    ];
    expected.sort_by_key(|(uri, range)| (uri.clone(), range["start"]["line"].as_u64()));
    assert_eq!(found, expected);
    let without = server
        .call(
            "textDocument/references",
            json!({
                "textDocument": {"uri": part_uri},
                "position": at(PART, 3, "bot"),
                "context": {"includeDeclaration": false},
            }),
        )
        .expect("references");
    assert_eq!(without.as_array().unwrap().len(), 2);

    // Rename: prepare gives the id's range; the edit covers both files, versioned.
    let prepared = server
        .call(
            "textDocument/prepareRename",
            position_params(&root_uri, at(ROOT, 7, "bot")),
        )
        .expect("prepareRename");
    assert_eq!(
        prepared,
        json!({"range": range(ROOT, 7, "bot"), "placeholder": "bot"})
    );
    let not_an_id = server
        .call(
            "textDocument/prepareRename",
            position_params(&root_uri, at(ROOT, 2, "scope")),
        )
        .expect("prepareRename");
    assert_eq!(not_an_id, Value::Null);
    let edit = server
        .call(
            "textDocument/rename",
            json!({"textDocument": {"uri": root_uri}, "position": at(ROOT, 7, "bot"), "newName": "assistant"}),
        )
        .expect("rename");
    let new_root = apply_edits(ROOT, &edits_for(&edit, &root_uri));
    let new_part = apply_edits(PART, &edits_for(&edit, &part_uri));
    assert_eq!(new_root, ROOT.replace("bot", "assistant"));
    assert_eq!(new_part, PART.replace("bot", "assistant"));
    let versions: Vec<&Value> = edit["documentChanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["textDocument"]["version"])
        .collect();
    assert_eq!(versions, [&json!(1), &json!(1)]);
    for (name, message) in [
        ("user", "already the id of component user"),
        ("Not an id", "is not a valid id"),
    ] {
        let error = server
            .call(
                "textDocument/rename",
                json!({"textDocument": {"uri": root_uri}, "position": at(ROOT, 7, "bot"), "newName": name}),
            )
            .expect_err("refused");
        assert!(
            error["message"].as_str().unwrap().contains(message),
            "{error}"
        );
    }

    // Edits to the included buffer count before it is saved: the root's reference dangles.
    replace(&mut server, &part_uri, 2, &PART.replace("bot", "robot"));
    let root = diagnostics_where(&mut server, &root_uri, |c| c.contains(&"TM012"));
    let dangling: Vec<&Value> = root.iter().filter(|d| d["code"] == "TM012").collect();
    assert_eq!(dangling.len(), 2, "{root:#?}");
    assert_eq!(dangling[1]["range"], range(ROOT, 7, "\"bot\""));
    assert!(server.shutdown().success());
}

#[test]
fn the_workspace_model_is_checked_from_disk_and_follows_changes() {
    let dir = TempDir::new("model-workspace");
    dir.write("threatlens.toml", "model = \"security/threatmodel.yaml\"\n");
    let root_path = dir.write("security/threatmodel.yaml", ROOT);
    let part_path = dir.write("security/parts/components.yaml", PART);
    dir.write("app.py", "import json\n");
    let (root_uri, part_uri) = (file_uri(&root_path), file_uri(&part_path));

    let mut server = spawn();
    server.initialize(init_params(Some(dir.path()), json!({"debounceMs": 0})));
    // Found by the scan, checked from disk: every file of the model, without versions.
    let part = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == part_uri.as_str()
    });
    assert_eq!(part["version"], Value::Null);
    assert!(codes(part["diagnostics"].as_array().unwrap()).contains(&"TM101"));
    let root = diagnostics_at(&mut server, &root_uri, None);
    assert!(!codes(&root).contains(&"TM012"));

    // Opening the included file and breaking a reference: the root (not open) shows it.
    open(&mut server, &part_uri, "yaml", PART);
    diagnostics_at(&mut server, &part_uri, Some(1));
    replace(
        &mut server,
        &part_uri,
        2,
        &PART.replace("{id: bot,", "{id: robot,"),
    );
    let part = diagnostics_at(&mut server, &part_uri, Some(2));
    assert!(
        codes(&part).contains(&"TM027"),
        "robot is in no trust boundary: {part:#?}"
    );
    let root = diagnostics_where(&mut server, &root_uri, |c| c.contains(&"TM012"));
    let dangling = codes(&root).iter().filter(|c| **c == "TM012").count();
    assert_eq!(dangling, 2, "{root:#?}");

    // Closing it without saving: back to the file on disk.
    server.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": part_uri}}),
    );
    diagnostics_where(&mut server, &root_uri, |c| !c.contains(&"TM012"));

    // Saved elsewhere: the watcher's event re-checks the model.
    std::fs::write(&part_path, PART.replace("{id: bot,", "{id: robot,")).unwrap();
    server.file_on_disk(OnDisk::Changed, &part_uri);
    diagnostics_where(&mut server, &root_uri, |c| {
        c.iter().filter(|c| **c == "TM012").count() == 2
    });

    // The root deleted: the model's diagnostics go.
    std::fs::remove_file(&root_path).unwrap();
    server.file_on_disk(OnDisk::Deleted, &root_uri);
    let mut cleared = vec![root_uri.clone(), part_uri.clone()];
    while !cleared.is_empty() {
        let params = server.await_notification_where("textDocument/publishDiagnostics", |p| {
            p["diagnostics"] == json!([])
        });
        cleared.retain(|u| params["uri"] != u.as_str());
    }
    assert!(server.shutdown().success());
}

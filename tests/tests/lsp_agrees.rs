//! The language server's workspace scan reports what `threatlens check` reports: the same
//! findings (rule and line) in the same files, on the bundled example project and on the
//! evaluation corpora. An editor that shows something the CI gate does not (or misses what it
//! gates on) is not to be trusted.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use threatlens_tests::lsp_client::{OnDisk, TempDir, TestServer, file_uri};
use threatlens_tests::{json as parse_json, repo_root, run};

/// (file URI, rule, 1-based line, message) → how many findings.
type Findings = BTreeMap<(String, String, u64, String), usize>;

fn from_cli(root: &Path) -> Findings {
    let output = run(
        root,
        &["check", ".", "--format", "json", "--fail-on", "low"],
    );
    let report = parse_json(&output);
    let mut findings = Findings::new();
    for finding in report["findings"].as_array().expect("findings") {
        let file = root.join(finding["file"].as_str().expect("file"));
        let file = file.canonicalize().unwrap_or(file);
        // A notebook finding that is not open in the editor sits on the notebook's first line.
        let line = if finding.get("cell").is_some_and(|c| !c.is_null()) {
            1
        } else {
            finding["line"].as_u64().expect("line")
        };
        let rule = finding["rule"].as_str().expect("rule").to_string();
        let message = finding["message"].as_str().expect("message").to_string();
        *findings
            .entry((file_uri(&file), rule, line, message))
            .or_default() += 1;
    }
    findings
}

fn from_server(root: &Path) -> Findings {
    let mut server = TestServer::spawn();
    server.timeout = Duration::from_secs(120);
    server.initialize(json!({
        "processId": null,
        "rootUri": file_uri(root),
        "workspaceFolders": [{"uri": file_uri(root), "name": "root"}],
        "capabilities": TestServer::client_capabilities(),
        "initializationOptions": {"debounceMs": 0, "minimumSeverity": "low"},
    }));
    server.await_notification_where("$/progress", |p| p["value"]["kind"] == "end");
    // The model is analysed beside the scan; give its diagnostics a moment to arrive.
    std::thread::sleep(Duration::from_millis(500));
    let mut latest: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for message in server.pending() {
        if message["method"] == "textDocument/publishDiagnostics" {
            let params = &message["params"];
            let uri = params["uri"].as_str().expect("uri").to_string();
            let diagnostics = params["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            latest.insert(uri, diagnostics);
        }
    }
    let _ = server.shutdown();
    let mut findings = Findings::new();
    for (uri, diagnostics) in latest {
        for diagnostic in diagnostics {
            let rule = diagnostic["code"].as_str().expect("code").to_string();
            let line = diagnostic["range"]["start"]["line"].as_u64().expect("line") + 1;
            let mut message = diagnostic["message"].as_str().expect("message");
            // A notebook that is not open shows where in it: "cell 2, line 3:5: …".
            if uri.ends_with(".ipynb")
                && message.starts_with("cell ")
                && let Some((_, rest)) = message.split_once(": ")
            {
                message = rest;
            }
            let message = message.to_string();
            *findings
                .entry((uri.clone(), rule, line, message))
                .or_default() += 1;
        }
    }
    findings
}

fn assert_agree(root: &Path) {
    let relative = root.display();
    let root = root.canonicalize().expect("the project exists");
    let cli = from_cli(&root);
    let server = from_server(&root);
    assert!(!cli.is_empty(), "{relative}: the CLI found nothing");
    let only_cli: Vec<_> = cli
        .iter()
        .filter(|(k, n)| server.get(k) != Some(n))
        .collect();
    let only_server: Vec<_> = server
        .iter()
        .filter(|(k, n)| cli.get(k) != Some(n))
        .collect();
    assert!(
        only_cli.is_empty() && only_server.is_empty(),
        "{relative}: the CLI and the language server disagree\nCLI only: {only_cli:#?}\nserver only: {only_server:#?}"
    );
}

#[test]
fn on_the_example_project() {
    assert_agree(&repo_root().join("threat-models/examples/rag-chatbot"));
}

#[test]
fn on_the_labelled_corpus() {
    assert_agree(&repo_root().join("tests/corpus/labelled"));
}

#[test]
fn on_the_holdout_corpus() {
    assert_agree(&repo_root().join("tests/corpus/holdout"));
}

const EXCEPTION: &str = r#"
exceptions:
  - rule: TL110
    target: "code:src/**"
    justification: Checkpoints under src/ come from our own training job.
    approved_by: ciso
    expires: 2099-12-31
"#;

/// A project whose threat model excepts a rule in part of the code, and whose code reads a
/// constant from a configuration module.
fn project_with_exceptions_and_constants() -> TempDir {
    let dir = TempDir::new("agrees");
    assert!(run(dir.path(), &["init"]).status.success());
    let model = dir.path().join("threatmodel.yaml");
    let text = std::fs::read_to_string(&model).expect("the starter model");
    std::fs::write(&model, text + EXCEPTION).expect("write the model");
    let load = "import torch\nm = torch.load(p)\n";
    dir.write("src/train.py", load);
    dir.write("other/serve.py", load);
    dir.write("pkg/__init__.py", "");
    // A pickle whose first global is `os.system` (written opcode by opcode), and code loading it.
    dir.write(
        "weights/classifier.pkl",
        b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.",
    );
    dir.write(
        "other/classify.py",
        "import joblib\nclf = joblib.load(\"../weights/classifier.pkl\")\n",
    );
    dir.write("pkg/config.py", "MODEL_ID = \"acme/support-bot\"\n");
    dir.write(
        "pkg/app.py",
        "from transformers import AutoModel\nfrom pkg.config import MODEL_ID\nm = AutoModel.from_pretrained(MODEL_ID)\n",
    );
    dir
}

#[test]
fn on_model_exceptions_and_constants_from_other_modules() {
    let dir = project_with_exceptions_and_constants();
    assert_agree(dir.path());
    // The case is real: the exception hides one finding and the constant makes another.
    let cli = from_cli(dir.path());
    let rules_of = |file: &str| -> Vec<String> {
        let uri = file_uri(&dir.path().join(file));
        cli.keys()
            .filter(|(u, ..)| *u == uri)
            .map(|(_, r, ..)| r.clone())
            .collect()
    };
    assert_eq!(rules_of("src/train.py"), Vec::<String>::new());
    assert_eq!(rules_of("other/serve.py"), ["TL110"]);
    assert_eq!(rules_of("pkg/app.py"), ["TL303"]);
}

/// A server on the workspace `root`, showing every severity, analysing at once.
fn server_on(root: &Path) -> TestServer {
    server_with_env(root, &[])
}

fn server_with_env(root: &Path, env: &[(&str, &str)]) -> TestServer {
    let mut server = TestServer::spawn_with(env);
    server.initialize(json!({
        "processId": null,
        "rootUri": file_uri(root),
        "capabilities": TestServer::client_capabilities(),
        "initializationOptions": {"debounceMs": 0, "minimumSeverity": "low"},
    }));
    server
}

/// How many progresses whose token starts with `kind` the server has asked to create so far.
fn progresses_created(server: &mut TestServer, kind: &str) -> usize {
    server
        .pending()
        .iter()
        .filter(|m| {
            m["method"] == "window/workDoneProgress/create"
                && m["params"]["token"]
                    .as_str()
                    .is_some_and(|token| token.starts_with(kind))
        })
        .count()
}

/// How many workspace scans the server has started so far (each asks to create a progress).
fn scans_started(server: &mut TestServer) -> usize {
    progresses_created(server, "threatlens/scan/")
}

fn codes_of(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect()
}

/// The next re-check's log says it checked `files` files again.
fn assert_checked_again(server: &mut TestServer, files: usize) {
    let checked = server.await_log("file(s) again in");
    let expected = format!("checked {files} file(s) again");
    assert!(
        checked["message"]
            .as_str()
            .is_some_and(|m| m.starts_with(&expected)),
        "{checked}"
    );
}

/// The diagnostics of `path` the server publishes next.
fn next_rules(server: &mut TestServer, path: &Path) -> Vec<String> {
    server
        .await_diagnostics(&file_uri(path))
        .iter()
        .filter_map(|d| d["code"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_changed_module_is_checked_again_only_where_it_was_read() {
    let dir = TempDir::new("agrees-readers");
    let from_pretrained = |module: &str, name: &str| {
        format!(
            "from transformers import AutoModel\nfrom pkg.{module} import {name}\nm = AutoModel.from_pretrained({name})\n"
        )
    };
    dir.write("pkg/__init__.py", "");
    let cache = "CACHE_DIR = \"/tmp/cache\"\n";
    let config = dir.write(
        "pkg/config.py",
        format!("MODEL_ID = \"acme/support-bot\"\n{cache}"),
    );
    let app = dir.write("pkg/app.py", from_pretrained("config", "MODEL_ID"));
    // Another reader of the module, which looks up another constant.
    dir.write(
        "pkg/paths.py",
        "from pkg.config import CACHE_DIR\nroot = CACHE_DIR\n",
    );
    let names = dir.write("pkg/names.py", "OTHER_ID = \"./checkpoints/other\"\n");
    let other = dir.write("pkg/other.py", from_pretrained("names", "OTHER_ID"));
    dir.write("pkg/train.py", "import torch\nm = torch.load(p)\n");
    let mut server = server_on(dir.path());
    server.await_notification_where("$/progress", |p| p["value"]["kind"] == "end");
    assert_eq!(next_rules(&mut server, &app), ["TL303"]);
    assert_eq!(scans_started(&mut server), 1);
    // An open document reads it too (its editing session keeps what it read).
    let serve = file_uri(&dir.path().join("pkg/serve.py"));
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": serve, "languageId": "python", "version": 1,
            "text": from_pretrained("config", "MODEL_ID")}}),
    );
    assert_eq!(codes_of(&server.await_diagnostics(&serve)), ["TL303"]);

    // The configuration module now names a local directory: only `app.py` read that constant.
    std::fs::write(
        &config,
        format!("MODEL_ID = \"./checkpoints/support-bot\"\n{cache}"),
    )
    .expect("write");
    server.file_on_disk(OnDisk::Changed, &file_uri(&config));
    server.await_log(&format!(
        "{} changed: checking again the 1 file(s) that read the constants that changed",
        config.display()
    ));
    assert_eq!(next_rules(&mut server, &app), Vec::<String>::new());
    assert!(server.await_diagnostics(&serve).is_empty());

    // The module and `app.py`.
    assert_checked_again(&mut server, 2);

    // A change that leaves its constants as they were checks only the module itself again.
    std::fs::write(
        &config,
        format!(
            "MODEL_ID = \"./checkpoints/support-bot\"\n{cache}\n\ndef unused():\n    return 1\n"
        ),
    )
    .expect("write");
    server.file_on_disk(OnDisk::Changed, &file_uri(&config));
    server.await_log(&format!(
        "{} changed: the constants other files read from it are as they were, so none is checked again",
        config.display()
    ));
    assert_checked_again(&mut server, 1);

    // Who read what outlives the change: the other module's reader is found too.
    std::fs::write(&names, "OTHER_ID = \"acme/other-bot\"\n").expect("write");
    server.file_on_disk(OnDisk::Changed, &file_uri(&names));
    server.await_log(&format!(
        "{} changed: checking again the 1 file(s) that read the constants that changed",
        names.display()
    ));
    assert_eq!(next_rules(&mut server, &other), ["TL303"]);
    // No second scan of the workspace was started, and one file needs no progress.
    assert_eq!(scans_started(&mut server), 1);
    assert_eq!(progresses_created(&mut server, "threatlens/again/"), 0);
    let _ = server.shutdown();
}

#[test]
fn of_two_checks_of_a_file_the_later_one_wins_even_when_it_finishes_first() {
    let dir = TempDir::new("agrees-order");
    dir.write("pkg/__init__.py", "");
    let config = dir.write("pkg/config.py", "MODEL_ID = \"acme/support-bot\"\n");
    // The server takes two seconds longer over a file holding the marker.
    let app = dir.write(
        "pkg/app.py",
        "# slow to analyse\nfrom transformers import AutoModel\nfrom pkg.config import MODEL_ID\nm = AutoModel.from_pretrained(MODEL_ID)\n",
    );
    let mut server = server_with_env(
        dir.path(),
        &[("THREATLENS_LSP_TEST_DELAY_MARKER", "slow to analyse")],
    );
    server.await_notification_where("$/progress", |p| p["value"]["kind"] == "end");
    assert_eq!(next_rules(&mut server, &app), ["TL303"]);

    // The module changes: `app.py`, which reads it, is checked again (slowly, as it was).
    std::fs::write(&config, "MODEL_ID = \"acme/other-bot\"\n").expect("write");
    server.file_on_disk(OnDisk::Changed, &file_uri(&config));
    std::thread::sleep(Duration::from_millis(500));
    // Meanwhile `app.py` is saved loading a local checkpoint; that check finishes first.
    std::fs::write(
        &app,
        "from transformers import AutoModel\nm = AutoModel.from_pretrained(\"./checkpoints/bot\")\n",
    )
    .expect("write");
    server.file_on_disk(OnDisk::Changed, &file_uri(&app));
    server.await_log("checked 1 file(s) again in");
    server.await_log("checked 2 file(s) again in");
    let published: Vec<Value> = server
        .pending()
        .into_iter()
        .filter(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == file_uri(&app).as_str()
        })
        .map(|m| m["params"]["diagnostics"].clone())
        .collect();
    // The slow check of the old text is not published over the newer one.
    assert_eq!(published, [json!([])]);
    let _ = server.shutdown();
}

#[test]
fn checking_many_files_again_reports_progress_and_publishes_as_it_goes() {
    let dir = TempDir::new("agrees-progress");
    dir.write("pkg/__init__.py", "");
    let config = dir.write("pkg/config.py", "MODEL_ID = \"acme/support-bot\"\n");
    const READERS: usize = 100;
    let readers: Vec<PathBuf> = (0..READERS)
        .map(|n| {
            dir.write(
                &format!("pkg/app{n}.py"),
                "from transformers import AutoModel\nfrom pkg.config import MODEL_ID\nm = AutoModel.from_pretrained(MODEL_ID)\n",
            )
        })
        .collect();
    let mut server = server_on(dir.path());
    server.await_notification_where("$/progress", |p| p["value"]["kind"] == "end");
    for reader in &readers {
        assert_eq!(next_rules(&mut server, reader), ["TL303"]);
    }

    std::fs::write(&config, "MODEL_ID = \"./checkpoints/support-bot\"\n").expect("write");
    server.file_on_disk(OnDisk::Changed, &file_uri(&config));
    let create = server.await_message("a re-check's progress", |m| {
        m["method"] == "window/workDoneProgress/create"
            && m["params"]["token"]
                .as_str()
                .is_some_and(|t| t.starts_with("threatlens/again/"))
    });
    let token = create["params"]["token"].clone();
    let of_this = |p: &Value, kind: &str| p["token"] == token && p["value"]["kind"] == kind;
    // The module itself and its readers.
    let files = READERS + 1;
    let begin = server.await_notification_where("$/progress", |p| of_this(p, "begin"));
    assert_eq!(begin["value"]["title"], "threatlens: checking files again");
    assert_eq!(begin["value"]["message"], format!("0/{files} files"));
    // In batches: a report of part of the files.
    let report = server.await_notification_where("$/progress", |p| of_this(p, "report"));
    assert!(
        report["value"]["percentage"]
            .as_u64()
            .is_some_and(|p| p < 100),
        "{report}"
    );
    let end = server.await_notification_where("$/progress", |p| of_this(p, "end"));
    assert_eq!(end["value"]["message"], format!("{files} files"));
    server.await_log(&format!("checked {files} file(s) again in"));
    for reader in &readers {
        assert_eq!(next_rules(&mut server, reader), Vec::<String>::new());
    }
    assert_eq!(scans_started(&mut server), 1);
    let _ = server.shutdown();
}

#[test]
fn a_module_added_or_removed_is_checked_again_where_it_was_looked_for() {
    let dir = TempDir::new("agrees-index");
    dir.write("pkg/__init__.py", "");
    // `pkg/config.py` does not exist yet: the model id is unknown, and nothing is reported.
    let app = dir.write(
        "pkg/app.py",
        "from transformers import AutoModel\nfrom pkg.config import MODEL_ID\nm = AutoModel.from_pretrained(MODEL_ID)\n",
    );
    let train = dir.write("pkg/train.py", "import torch\nm = torch.load(p)\n");
    let mut server = server_on(dir.path());
    assert_eq!(next_rules(&mut server, &train), ["TL110"]);
    server.await_notification_where("$/progress", |p| p["value"]["kind"] == "end");
    let looked_for = "modules added or removed: checking again the 1 file(s) that looked for them";

    let config = dir.write("pkg/config.py", "MODEL_ID = \"acme/support-bot\"\n");
    server.file_on_disk(OnDisk::Created, &file_uri(&config));
    server.await_log(looked_for);
    assert_eq!(next_rules(&mut server, &app), ["TL303"]);

    std::fs::remove_file(&config).expect("delete config.py");
    server.file_on_disk(OnDisk::Deleted, &file_uri(&config));
    server.await_log(looked_for);
    assert_eq!(next_rules(&mut server, &app), Vec::<String>::new());
    // No second scan of the workspace was started.
    assert_eq!(scans_started(&mut server), 1);
    let _ = server.shutdown();
}

#[test]
fn an_artefact_written_while_working_is_scanned_with_the_code_that_loads_it() {
    let dir = TempDir::new("agrees-artefacts");
    dir.write(".gitignore", "checkpoints/\n");
    let classify = dir.write(
        "other/classify.py",
        "import joblib\nclf = joblib.load(\"../weights/classifier.pkl\")\n",
    );
    let train = dir.write("pkg/train.py", "import torch\nm = torch.load(p)\n");
    let mut server = server_on(dir.path());
    server.await_notification_where("$/progress", |p| p["value"]["kind"] == "end");
    assert_eq!(next_rules(&mut server, &train), ["TL110"]);
    // A checkpoint in an ignored directory is neither reported nor flagged.
    let ignored = dir.write(
        "checkpoints/classifier.pkl",
        b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.",
    );
    server.file_on_disk(OnDisk::Created, &file_uri(&ignored));
    // The pickle the code loads (its first global is `os.system`) is flagged, and the code
    // loading it says so.
    let artefact = dir.write(
        "weights/classifier.pkl",
        b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.",
    );
    server.file_on_disk(OnDisk::Created, &file_uri(&artefact));
    server.await_log(
        "artefact flags changed (classifier.pkl): checking again the 1 file(s) that load them",
    );
    // (The scan's diagnostics of the code, from before, come first.)
    let classify_uri = file_uri(&classify);
    let flagged = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == classify_uri.as_str()
            && p["diagnostics"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("flagged"))
    });
    assert_eq!(flagged["diagnostics"][0]["code"], "TL109");
    assert!(!server.await_diagnostics(&file_uri(&artefact)).is_empty());
    let published: Vec<Value> = server.pending();
    let ignored_uri = file_uri(&ignored);
    assert!(
        published
            .iter()
            .all(|m| m["params"]["uri"] != ignored_uri.as_str()),
        "{published:?}"
    );
    // Nothing else was checked again, and no scan started.
    assert!(
        published
            .iter()
            .all(|m| m["params"]["uri"] != file_uri(&train).as_str())
    );
    assert_eq!(scans_started(&mut server), 1);
    let _ = server.shutdown();
}

#[test]
fn the_server_follows_modules_and_models_changed_on_disk() {
    let dir = project_with_exceptions_and_constants();
    let mut server = server_on(dir.path());
    let app = dir.path().join("pkg/app.py");
    assert_eq!(next_rules(&mut server, &app), ["TL303"]);
    server.await_notification_where("$/progress", |p| p["value"]["kind"] == "end");

    // The configuration module now names a local directory: nothing to pin.
    let config = dir.write(
        "pkg/config.py",
        "MODEL_ID = \"./checkpoints/support-bot\"\n",
    );
    server.file_on_disk(OnDisk::Changed, &file_uri(&config));
    assert_eq!(next_rules(&mut server, &app), Vec::<String>::new());

    // The exception is withdrawn from the model: the finding it hid is shown.
    let model = dir.path().join("threatmodel.yaml");
    let text = std::fs::read_to_string(&model).expect("the model");
    std::fs::write(&model, text.replace(EXCEPTION, "")).expect("write the model");
    server.file_on_disk(OnDisk::Changed, &file_uri(&model));
    // Only the code the exception's glob (`src/**`) matches is checked again.
    server.await_log("threat-model exceptions changed: checking again the 1 file(s) they match");
    let train = dir.path().join("src/train.py");
    assert_eq!(next_rules(&mut server, &train), ["TL110"]);

    // An open document gets the model's exceptions too.
    std::fs::write(
        &model,
        std::fs::read_to_string(&model).expect("the model") + EXCEPTION,
    )
    .expect("write the model");
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": file_uri(&train), "languageId": "python", "version": 1,
            "text": "import torch\nm = torch.load(p)\n"}}),
    );
    server.file_on_disk(OnDisk::Changed, &file_uri(&model));
    let open = file_uri(&train);
    server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == open.as_str() && p["diagnostics"].as_array().is_some_and(|d| d.is_empty())
    });

    // The artefact is replaced by a benign pickle: the code loading it no longer says it is
    // flagged, and the artefact's own finding goes.
    let artefact = dir.write("weights/classifier.pkl", b"\x80\x02}q\x00.");
    server.file_on_disk(OnDisk::Changed, &file_uri(&artefact));
    server.await_log(
        "artefact flags changed (classifier.pkl): checking again the 1 file(s) that load them",
    );
    let classify = file_uri(&dir.path().join("other/classify.py"));
    let unflagged = server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == classify.as_str()
            && p["diagnostics"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.contains("flagged"))
    });
    assert_eq!(unflagged["diagnostics"][0]["code"], "TL109");
    let artefact_uri = file_uri(&artefact);
    server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == artefact_uri.as_str()
            && p["diagnostics"]
                .as_array()
                .is_some_and(|d| d.iter().all(|d| d["code"] != "TL901"))
    });
    let _ = server.shutdown();
}

#[test]
fn open_documents_get_the_model_exceptions_without_a_workspace_scan() {
    let dir = project_with_exceptions_and_constants();
    let mut server = TestServer::spawn();
    server.initialize(json!({
        "processId": null,
        "rootUri": file_uri(dir.path()),
        "capabilities": TestServer::client_capabilities(),
        "initializationOptions": {"debounceMs": 0, "scanWorkspace": false},
    }));
    let load = "import torch\nm = torch.load(p)\n";
    for file in ["src/train.py", "other/serve.py"] {
        server.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": file_uri(&dir.path().join(file)), "languageId": "python",
                "version": 1, "text": load}}),
        );
    }
    let excepted = file_uri(&dir.path().join("src/train.py"));
    server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == excepted.as_str() && p["diagnostics"].as_array().is_some_and(|d| d.is_empty())
    });
    let other = file_uri(&dir.path().join("other/serve.py"));
    server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == other.as_str() && p["diagnostics"][0]["code"] == "TL110"
    });
    let _ = server.shutdown();
}

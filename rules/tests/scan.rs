//! Scanning a project: each file analysed once, whoever parses it first.

use std::path::{Path, PathBuf};
use threatlens_rules::analyse::FileKind;
use threatlens_rules::catalogue::Catalogue;
use threatlens_rules::config::Config;
use threatlens_rules::scan::{analyse_file, collect_files, project_of, scan, scan_each};

const MODULES: usize = 16;

/// Configuration modules with a constant (and a finding of their own), each read by an
/// application module, so that a scan meets both orders: a module read before and after its turn.
fn project_with_constants(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    std::fs::create_dir_all(root.join("pkg")).expect("create pkg/");
    for i in 0..MODULES {
        let config = root.join(format!("pkg/config_{i:02}.py"));
        let text = format!(
            "import pickle\nMODEL_ID = \"acme/bot-{i}\"\n\ndef restore(blob):\n    return pickle.loads(blob)\n"
        );
        std::fs::write(&config, text).expect("write a config module");
        // Half the importers sort before their module, half after.
        let app_name = if i % 2 == 0 { "a_app" } else { "z_app" };
        let app = root.join(format!("pkg/{app_name}_{i:02}.py"));
        let text = format!(
            "from transformers import AutoModel\nfrom pkg.config_{i:02} import MODEL_ID\nmodel = AutoModel.from_pretrained(MODEL_ID)\n"
        );
        std::fs::write(&app, text).expect("write an application module");
        files.extend([config, app]);
    }
    files.sort();
    files
}

#[test]
fn every_file_is_reported_once_with_what_analysing_it_alone_finds() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = std::path::absolute(dir.path()).expect("an absolute path");
    let files = project_with_constants(&root);
    let catalogue = Catalogue::builtin();
    let config = Config::default();
    let paths = [root.clone()];

    let result = scan(catalogue, &config, &paths);

    let reported: Vec<&PathBuf> = result.files.iter().map(|report| &report.path).collect();
    assert_eq!(reported, files.iter().collect::<Vec<_>>());
    let (listed, _) = collect_files(&paths, &config);
    let project = project_of(&paths, &listed, &config);
    for report in &result.files {
        let alone = analyse_file(
            catalogue,
            &config,
            Some(&project),
            &report.path,
            FileKind::Python,
        );
        assert_eq!(report.findings, alone.findings, "{}", report.path.display());
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
        let name = report
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        if name.starts_with("config") {
            assert!(!rules.is_empty(), "{name}: the pickle load is found");
        } else {
            // The unpinned model id comes from the configuration module's constant.
            assert_eq!(rules, ["TL303"], "{name}");
        }
    }
}

#[test]
fn checking_some_files_reads_the_constants_of_the_configured_project() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = std::path::absolute(dir.path()).expect("an absolute path");
    project_with_constants(&root);
    let app = root.join("pkg/a_app_00.py");
    let catalogue = Catalogue::builtin();
    let rules_of = |config: &Config| -> Vec<(PathBuf, Vec<String>)> {
        scan(catalogue, config, std::slice::from_ref(&app))
            .files
            .into_iter()
            .map(|report| {
                let rules = report.findings.into_iter().map(|f| f.rule).collect();
                (report.path, rules)
            })
            .collect()
    };
    // Without a configuration file the project is the files checked: the constant is unknown.
    let unconfigured = Config::discover(&app).expect("no configuration");
    assert!(unconfigured.file.is_none());
    assert_eq!(rules_of(&unconfigured), [(app.clone(), vec![])]);
    // With one (as a pre-commit hook runs it on the staged files), the modules under its
    // directory are read, and only the file asked for is reported.
    std::fs::write(root.join("threatlens.toml"), "").expect("write threatlens.toml");
    let configured = Config::discover(&app).expect("the configuration");
    assert!(configured.file.is_some());
    assert_eq!(
        rules_of(&configured),
        [(app.clone(), vec!["TL303".to_string()])]
    );
}

#[test]
fn each_report_is_handed_on_in_path_order_before_a_later_file_is_read() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = std::path::absolute(dir.path()).expect("an absolute path");
    let mut files = Vec::new();
    for i in 0..8 {
        let file = root.join(format!("step_{i}.py"));
        std::fs::write(&file, "import pickle\n").expect("write a module");
        files.push(file);
    }
    // An artefact among them, scanned before the code and handed on in its place.
    let artefact = root.join("step_3.pkl");
    std::fs::write(&artefact, b"\x80\x02K\x01.").expect("write a pickle");
    files.push(artefact);
    files.sort();
    let last = files.last().expect("files").clone();
    let catalogue = Catalogue::builtin();
    let config = Config::default();
    // On one thread the scan takes the files in order, so what the output does with the first
    // report happens before the last file is read: here, it gives that file a finding. A scan
    // that reported only when it was done would have read the file as it was.
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a thread pool");
    let mut handed_on: Vec<(PathBuf, Vec<String>)> = Vec::new();
    let errors = one_thread.install(|| {
        scan_each(catalogue, &config, std::slice::from_ref(&root), |report| {
            if handed_on.is_empty() {
                std::fs::write(&last, "import pickle\npickle.loads(blob)\n")
                    .expect("change the last file");
            }
            let rules = report.findings.into_iter().map(|f| f.rule).collect();
            handed_on.push((report.path, rules));
        })
    });

    assert!(errors.is_empty(), "{errors:?}");
    let paths: Vec<&PathBuf> = handed_on.iter().map(|(path, _)| path).collect();
    assert_eq!(paths, files.iter().collect::<Vec<_>>());
    let (_, rules_of_last) = handed_on.last().expect("reports");
    assert_eq!(rules_of_last, &["TL101"]);
    assert!(
        handed_on[..handed_on.len() - 1]
            .iter()
            .all(|(path, rules)| rules.is_empty() || path.extension().is_some_and(|e| e == "pkl")),
        "{handed_on:?}"
    );
}

//! Editor buffers in place of files on disk, for the root and for included files.

mod common;

use common::{describe, temp_dir, today};
use std::collections::HashMap;
use threatlens_models::analyse_model_overlaid;

#[test]
fn buffers_replace_the_root_and_included_files() {
    let dir = temp_dir("overlay");
    let root = dir.path().join("threatmodel.yaml");
    let part = dir.path().join("parts/components.yaml");
    std::fs::create_dir_all(part.parent().unwrap()).unwrap();
    std::fs::write(
        &root,
        "schema: threatlens/v1\nincludes: [parts/components.yaml]\nflows:\n  - {id: ask, from: user, to: bot}\n",
    )
    .unwrap();
    std::fs::write(
        &part,
        "schema: threatlens/v1\ncomponents:\n  - {id: user, kind: external-entity}\n  - {id: bot, kind: llm}\n",
    )
    .unwrap();

    let on_disk = analyse_model_overlaid(&root, &HashMap::new(), today());
    assert!(
        !on_disk.report.has_model_errors(),
        "{}",
        describe(&on_disk.report)
    );
    assert_eq!(on_disk.sources.len(), 2);

    // The included file's buffer renames `bot`: the root's reference dangles.
    let mut overlay = HashMap::new();
    overlay.insert(
        part.canonicalize().unwrap(),
        "schema: threatlens/v1\ncomponents:\n  - {id: user, kind: external-entity}\n  - {id: robot, kind: llm}\n".to_owned(),
    );
    let edited = analyse_model_overlaid(&root, &overlay, today());
    let dangling: Vec<_> = edited
        .report
        .findings()
        .filter(|(_, f)| f.slug == "dangling-reference")
        .map(|(p, f)| (p.to_path_buf(), f.span.start.line))
        .collect();
    assert_eq!(
        dangling,
        [(root.clone(), 4)],
        "{}",
        describe(&edited.report)
    );
    assert!(edited.model.lookup("robot").is_some());
    assert!(edited.sources[1].text.contains("robot"));

    // The root's buffer too.
    overlay.insert(
        root.canonicalize().unwrap(),
        "schema: threatlens/v1\nincludes: [parts/components.yaml]\nflows:\n  - {id: ask, from: user, to: robot}\n".to_owned(),
    );
    let both = analyse_model_overlaid(&root, &overlay, today());
    assert!(
        !both.report.has_model_errors(),
        "{}",
        describe(&both.report)
    );
}

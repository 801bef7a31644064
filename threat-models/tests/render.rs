//! Diagrams: golden Mermaid and DOT of the example models, DOT that parses back (layout-rs, and
//! Graphviz when it is installed), well-formed SVG, and escaping of hostile ids and names.
//!
//! Regenerate the golden files with `UPDATE_GOLDEN=1 cargo test -p threatlens-models --test
//! render` and review the diff.

mod common;

use common::*;
use layout::gv::DotParser;
use layout::gv::parser::ast;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use threatlens_models::render::{Diagram, Format};
use threatlens_models::{analyse_model_file, analyse_model_text};

const EXAMPLES: &[&str] = &["rag-chatbot", "cv-inspection", "agent-tools"];

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .join("threatmodel.yaml")
}

fn example_diagram(name: &str) -> Diagram {
    Diagram::of(&analyse_model_file(&example(name), today()))
}

fn diagram_of(text: &str) -> Diagram {
    Diagram::of(&analyse_model_text(
        text,
        Path::new("threatmodel.yaml"),
        today(),
    ))
}

/// Compares `actual` with `tests/golden/NAME`, or writes it there with `UPDATE_GOLDEN=1`.
fn assert_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the rendered diagram from line {} on:\n  golden: {:?}\n  actual: {:?}\n\
             If the change is intended, regenerate with `UPDATE_GOLDEN=1 cargo test -p \
             threatlens-models --test render` and review the diff.",
            path.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

#[test]
fn mermaid_of_the_examples_matches_the_golden_files() {
    for name in EXAMPLES {
        assert_golden(&format!("{name}.mmd"), &example_diagram(name).mermaid());
    }
}

#[test]
fn dot_of_the_examples_matches_the_golden_files() {
    for name in EXAMPLES {
        assert_golden(&format!("{name}.dot"), &example_diagram(name).dot());
    }
}

#[test]
fn the_rag_example_is_drawn_with_its_boundaries_shapes_and_problems() {
    let mermaid = example_diagram("rag-chatbot").mermaid();
    let has = |needle: &str| assert!(mermaid.contains(needle), "no {needle:?} in\n{mermaid}");
    has("%% HelpDesk Assistant (RAG chatbot + LoRA fine-tuning)\nflowchart LR\n");
    // Nested boundaries with their trust level.
    has("  subgraph b_ml_platform[\"ml-platform (trusted network)\"]\n    c_ingestion_pipeline(");
    has(
        "    subgraph b_gpu_sandbox[\"gpu-sandbox (trusted execution environment)\"]\n      c_finetune_pipeline(",
    );
    // Shapes by kind: entity, store (cylinder), LLM (hexagon).
    has("c_end_user[\"Employee / customer browser<br/>end-user · external entity\"]");
    has("c_vector_db[(\"Vector store<br/>vector-db · vector store\")]");
    has(
        "c_inference_server{{\"Self-hosted LLM inference (base + adapter)<br/>inference-server · LLM\"}}",
    );
    // The user's flow crosses into the edge unauthenticated; a finding on a flow.
    has("c_end_user <-->|\"flow-user-web<br/>https<br/>⚠ unauthenticated\"| c_web_chat");
    has(
        "c_model_registry -.->|\"flow-registry-infer<br/>https · deployment<br/>⚠ TM128\"| c_inference_server",
    );
    // Missing-control findings mark their components; the suppressed TM144 marks nothing.
    has("Embedding model service<br/>embedder · ML model<br/>⚠ TM134, TM139");
    has("  class c_embedder,c_ingestion_pipeline finding\n");
    assert!(!mermaid.contains("TM144"), "{mermaid}");
    // Out of scope.
    has("Corporate wiki (SaaS)<br/>wiki-saas · external entity<br/>out of scope");
}

#[test]
fn nothing_marked_without_findings() {
    let analysis = analyse_model_file(&example("rag-chatbot"), today());
    let plain = Diagram::new(&analysis.model, &analysis.graph).mermaid();
    assert!(!plain.contains("TM1"), "{plain}");
    assert!(!plain.contains(" finding\n  "), "{plain}");
}

/// Everything a DOT graph declares, flattened: (cluster path, node name, attributes).
#[derive(Default, Debug)]
struct Parsed {
    nodes: BTreeMap<String, (Vec<String>, BTreeMap<String, String>)>,
    edges: Vec<(String, String, BTreeMap<String, String>)>,
    clusters: Vec<(Vec<String>, BTreeMap<String, String>)>,
}

fn parse_dot(dot: &str) -> Parsed {
    let graph = DotParser::new(dot)
        .process()
        .unwrap_or_else(|e| panic!("layout-rs cannot parse the DOT: {e}\n{dot}"));
    let mut parsed = Parsed::default();
    walk(&graph, &mut Vec::new(), &mut parsed);
    parsed
}

fn walk(graph: &ast::Graph, path: &mut Vec<String>, parsed: &mut Parsed) {
    let attrs = |list: &ast::AttributeList| list.iter().cloned().collect::<BTreeMap<_, _>>();
    let mut graph_attrs = BTreeMap::new();
    for stmt in &graph.list.list {
        match stmt {
            ast::Stmt::Node(n) => {
                parsed
                    .nodes
                    .insert(n.id.name.clone(), (path.clone(), attrs(&n.list)));
            }
            ast::Stmt::Edge(e) => {
                for (to, _) in &e.to {
                    parsed
                        .edges
                        .push((e.from.name.clone(), to.name.clone(), attrs(&e.list)));
                }
            }
            ast::Stmt::Attribute(a) => {
                if matches!(a.target, ast::AttrStmtTarget::Graph) {
                    graph_attrs.extend(attrs(&a.list));
                }
            }
            ast::Stmt::SubGraph(sub) => {
                path.push(sub.name.clone());
                walk(sub, path, parsed);
                path.pop();
            }
        }
    }
    if !path.is_empty() {
        parsed.clusters.push((path.clone(), graph_attrs));
    }
}

#[test]
fn dot_parses_back_with_clusters_nested_as_the_boundaries() {
    for name in EXAMPLES {
        let dot = example_diagram(name).dot();
        let parsed = parse_dot(&dot);
        let analysis = analyse_model_file(&example(name), today());
        assert_eq!(
            parsed.nodes.len(),
            analysis.model.components.len(),
            "{name}"
        );
        assert_eq!(parsed.edges.len(), analysis.model.flows.len(), "{name}");
        // Every cluster is labelled with its trust level.
        for (path, attrs) in &parsed.clusters {
            assert!(path.iter().all(|p| p.starts_with("cluster_")), "{path:?}");
            let label = &attrs["label"];
            assert!(label.contains("trusted"), "{name}: {path:?} {label}");
        }
        // layout-rs can also lay the parsed graph out.
        let ast = DotParser::new(&dot).process().unwrap();
        let mut builder = layout::gv::GraphBuilder::new();
        builder.visit_graph(&ast);
        let mut svg = layout::backends::svg::SVGWriter::new();
        let mut visual = builder.get();
        visual.do_it(false, false, false, &mut svg);
        assert!(svg.finalize().contains("<svg"));
    }
    let parsed = parse_dot(&example_diagram("rag-chatbot").dot());
    let (path, attrs) = &parsed.nodes["finetune-pipeline"];
    assert_eq!(path, &["cluster_ml-platform", "cluster_gpu-sandbox"]);
    assert_eq!(
        attrs["label"],
        "LoRA fine-tuning pipeline\nfinetune-pipeline · pipeline"
    );
    assert_eq!(parsed.nodes["end-user"].0, ["cluster_internet"]);
    let weak = parsed
        .edges
        .iter()
        .find(|(from, to, _)| from == "end-user" && to == "web-chat")
        .unwrap();
    assert_eq!(weak.2["dir"], "both");
    assert_eq!(weak.2["color"], "#c0392b");
}

/// Graphviz itself, when it is installed (it is not required: layout-rs is the parser the
/// tests depend on).
#[test]
fn graphviz_accepts_the_dot_when_installed() {
    let Ok(version) = std::process::Command::new("dot").arg("-V").output() else {
        eprintln!("skipped: Graphviz `dot` is not installed");
        return;
    };
    assert!(version.status.success());
    for dot in EXAMPLES
        .iter()
        .map(|name| example_diagram(name).dot())
        .chain([diagram_of(NASTY).dot()])
    {
        use std::io::Write;
        let mut child = std::process::Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(dot.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}\n{dot}");
        assert!(!stderr.contains("Error"), "{stderr}\n{dot}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("<svg"));
    }
}

/// `text` without Mermaid entity codes (`#quot;`, `#35;`).
fn without_entities(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('#') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let code = after
            .find(';')
            .filter(|&end| end > 0 && after[..end].chars().all(|c| c.is_ascii_alphanumeric()));
        match code {
            Some(end) => rest = &after[end + 1..],
            None => {
                out.push('#');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Text content of every element of an SVG, which must be well-formed XML.
fn svg_texts(svg: &str) -> Vec<String> {
    let document =
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not well-formed: {e}\n{svg}"));
    assert_eq!(document.root_element().tag_name().name(), "svg");
    document
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .map(str::to_owned)
        .collect()
}

#[test]
fn svg_is_well_formed_and_names_every_component() {
    for name in EXAMPLES {
        let diagram = example_diagram(name);
        let svg = diagram.svg().unwrap_or_else(|e| panic!("{name}: {e}"));
        let texts = svg_texts(&svg);
        for node in &diagram.nodes {
            let shown = node.name.as_deref().unwrap_or(&node.id);
            assert!(
                texts.iter().any(|t| t.contains(shown)),
                "{name}: {shown} not in the SVG"
            );
        }
        for edge in &diagram.edges {
            assert!(texts.iter().any(|t| t == &edge.id), "{name}: {}", edge.id);
        }
        // The same diagram twice is the same SVG (golden-testable, cacheable).
        assert_eq!(diagram.svg(), Ok(svg), "{name}");
    }
}

/// Ids and names that are syntax in Mermaid or DOT, duplicates, self-loops, dangling flows,
/// parent cycles, an empty boundary and deep nesting.
const NASTY: &str = r#"schema: threatlens/v1
metadata: {id: nasty, title: "Title \"with\" <html> & #hash\nand a newline"}
trust_boundaries:
  - {id: outer, name: "end", trust: untrusted, contains: [end, "a-b"]}
  - {id: subgraph, name: "sub\"graph\" {x} [y] \\N", trust: trusted, parent: outer, contains: [a_b]}
  - {id: loop1, trust: trusted, parent: loop2, contains: [graph]}
  - {id: loop2, trust: trusted, parent: loop1}
  - {id: empty, trust: trusted}
components:
  - {id: end, name: "end", kind: external-entity, human: true}
  - {id: "a-b", name: "Quote \" <b>bold</b> & | pipe ; semi `tick` #1 \\ back", kind: llm}
  - {id: a_b, name: "a_b --> x; click a_b callback", kind: data-store}
  - {id: graph, name: "Ünïcödé 名前 \N", kind: agent}
  - {id: graph, name: duplicate id, kind: tool}
  - {id: "weird\"id", kind: process}
flows:
  - {id: f1, from: end, to: a_b, protocol: "ht\"tp|s", authn: none, encryption: none}
  - {id: f2, from: "a-b", to: "a-b"}
  - {id: f3, from: "a-b", to: nowhere}
  - {id: f4, from: a_b, to: graph, bidirectional: true, kind: telemetry}
  - {id: f4, from: a_b, to: graph}
  - {id: f5, from: "weird\"id", to: end}
"#;

#[test]
fn hostile_ids_and_names_render_in_every_format() {
    let analysis = analyse_model_text(NASTY, Path::new("threatmodel.yaml"), today());
    assert!(
        analysis.report.has_model_errors(),
        "the model is broken on purpose"
    );
    let diagram = Diagram::of(&analysis);
    assert_eq!(diagram.nodes.len(), 6);
    // f3 points nowhere: left out.
    assert_eq!(
        diagram
            .edges
            .iter()
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>(),
        ["f1", "f2", "f4", "f4", "f5"]
    );

    let mermaid = diagram.mermaid();
    let mut ids = Vec::new();
    for line in mermaid.lines().skip(1) {
        let line = line.trim_start();
        // Every quoted label is one token: no quote, angle bracket, pipe, semicolon or
        // backquote inside it but the entity codes and `<br/>` line breaks this renderer writes.
        if let (Some(open), Some(close)) = (line.find('"'), line.rfind('"'))
            && open < close
        {
            let inside = without_entities(&line[open + 1..close].replace("<br/>", ""));
            assert!(!inside.contains(['"', '<', '>', '|', ';', '`']), "{line}");
        }
        let declared = line.strip_prefix("subgraph ").unwrap_or(line);
        let id: String = declared
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let declares = line.starts_with("subgraph ")
            || (line.starts_with("c_") && declared[id.len()..].starts_with(['[', '(', '{']));
        if declares {
            ids.push(id);
        }
    }
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    assert_eq!(
        ids.len(),
        6 + 3,
        "6 components, 3 drawn boundaries: {ids:?}"
    );
    // `end` only closes subgraphs.
    assert_eq!(
        mermaid.lines().filter(|l| l.trim() == "end").count(),
        3,
        "{mermaid}"
    );
    assert!(
        mermaid.contains("Quote #quot; #lt;b#gt;bold#lt;/b#gt; #amp; #124; pipe #59; semi #96;tick#96; #35;1 \\ back"),
        "{mermaid}"
    );
    assert!(mermaid.starts_with("%% Title \"with\" <html> & #hash and a newline\n"));

    // DOT: parses, and every id and label comes back exactly.
    let dot = diagram.dot();
    let parsed = parse_dot(&dot);
    let names: Vec<&str> = parsed.nodes.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["a-b", "a_b", "end", "graph", "graph~2", "weird\"id"],
        "{dot}"
    );
    let label = &parsed.nodes["a-b"].1["label"];
    assert!(
        label.starts_with(
            "Quote \" <b>bold</b> & | pipe ; semi `tick` #1 \\ back\na-b · LLM\n⚠ TM101"
        ),
        "{label}"
    );
    assert_eq!(parsed.nodes["a_b"].0, ["cluster_outer", "cluster_subgraph"]);
    let cluster = parsed
        .clusters
        .iter()
        .find(|(path, _)| path.last().is_some_and(|p| p == "cluster_subgraph"))
        .unwrap();
    assert_eq!(
        cluster.1["label"],
        "sub\"graph\" {x} [y] \\N · subgraph (trusted)"
    );
    assert_eq!(parsed.edges.len(), 5);
    assert!(
        parsed.edges.iter().any(|(from, to, attrs)| from == "end"
            && to == "a_b"
            && attrs["label"] == "f1\nht\"tp|s\n⚠ unencrypted, unauthenticated"),
        "{:?}",
        parsed.edges
    );
    // The empty boundary is not drawn; the parent cycle is cut.
    assert!(!dot.contains("cluster_empty"), "{dot}");

    // SVG: well-formed, names escaped.
    let svg = diagram.svg().unwrap_or_else(|e| panic!("{e}"));
    let texts = svg_texts(&svg);
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Quote \" <b>bold</b> & | pipe")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("Ünïcödé 名前")),
        "{texts:?}"
    );
}

#[test]
fn deep_nesting_is_drawn_with_capped_indentation() {
    let mut text = String::from("schema: threatlens/v1\ntrust_boundaries:\n");
    let depth = 300;
    for i in 0..depth {
        let parent = if i == 0 {
            String::new()
        } else {
            format!(", parent: b{}", i - 1)
        };
        text.push_str(&format!("  - {{id: b{i}, trust: trusted{parent}}}\n"));
    }
    text.push_str(&format!(
        "  - {{id: inner, trust: trusted, parent: b{}, contains: [c]}}\ncomponents:\n  - {{id: c, kind: process}}\n",
        depth - 1
    ));
    let diagram = diagram_of(&text);
    let mermaid = diagram.mermaid();
    assert_eq!(mermaid.matches("subgraph ").count(), depth + 1);
    // Indentation is capped: the output stays linear in the model's size.
    assert!(mermaid.len() < 200 * depth, "{}", mermaid.len());
    let parsed = parse_dot(&diagram.dot());
    assert_eq!(parsed.nodes["c"].0.len(), depth + 1);
}

#[test]
fn empty_and_unreadable_models_still_render() {
    for text in ["schema: threatlens/v1\n", "schema: [unclosed\n", ""] {
        let diagram = diagram_of(text);
        assert_eq!(
            diagram.mermaid(),
            "flowchart LR\n  classDef entity fill:#eeeeee,stroke:#555555\n  classDef outOfScope stroke-dasharray:4 3,color:#777777\n  classDef finding stroke:#c0392b,stroke-width:3px\n"
        );
        parse_dot(&diagram.dot());
        let svg = diagram.svg().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            svg_texts(&svg).iter().any(|t| t.contains("no components")),
            "{svg}"
        );
    }
}

#[test]
fn every_format_renders_through_one_entry_point() {
    let diagram = example_diagram("agent-tools");
    for format in Format::ALL {
        let text = diagram.render(format).unwrap();
        let marker = match format {
            Format::Mermaid => "flowchart LR",
            Format::Dot => "digraph",
            Format::Svg => "<svg",
        };
        assert!(text.contains(marker), "{format}");
    }
}

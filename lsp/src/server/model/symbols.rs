//! The outline of a model file: its sections, and in list sections their elements by id (with
//! their name or kind as detail). `incident_response` and `monitoring` nest their playbooks and
//! signals. Read from the file's YAML tree, so it follows the text even where the model has
//! errors; a file that is not YAML at all has no outline.

use super::yaml_text::content_end;
use crate::server::documents::TextView;
use crate::server::protocol::{DocumentSymbol, Range, SymbolKind};
use std::rc::Rc;
use threatlens_models::yaml::{self, Node, NodeKind};

fn section_kind(key: &str) -> SymbolKind {
    match key {
        "schema" | "includes" => SymbolKind::PROPERTY,
        "metadata" | "scope" => SymbolKind::NAMESPACE,
        _ => SymbolKind::MODULE,
    }
}

fn element_kind(section: &str) -> SymbolKind {
    match section {
        "assets" => SymbolKind::OBJECT,
        "trust_boundaries" => SymbolKind::NAMESPACE,
        "components" => SymbolKind::CLASS,
        "flows" => SymbolKind::EVENT,
        "controls" => SymbolKind::INTERFACE,
        "threats" => SymbolKind::STRUCT,
        "exceptions" => SymbolKind::KEY,
        "suppliers" => SymbolKind::PACKAGE,
        "playbooks" => SymbolKind::FUNCTION,
        "signals" => SymbolKind::EVENT,
        _ => SymbolKind::FIELD,
    }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be given
fn symbol(
    name: String,
    detail: Option<String>,
    kind: SymbolKind,
    range: Range,
    selection: Range,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    DocumentSymbol {
        name,
        detail,
        kind,
        tags: None,
        deprecated: None,
        range,
        selection_range: selection,
        children: (!children.is_empty()).then_some(children),
    }
}

fn elements(view: &TextView<'_>, section: &str, items: &[Rc<Node>]) -> Vec<DocumentSymbol> {
    let text = view.text;
    items
        .iter()
        .filter_map(|item| {
            let id = item.get("id");
            let (name, selection) = match (section, id) {
                ("exceptions", _) => {
                    let rule = item.get("rule").and_then(|n| n.text()).unwrap_or("?");
                    let target = item.get("target").and_then(|n| n.text()).unwrap_or("?");
                    (
                        format!("{rule} → {target}"),
                        item.get("rule").map(Rc::clone),
                    )
                }
                (_, Some(id)) => (id.text()?.to_owned(), Some(Rc::clone(id))),
                (_, None) => return None,
            };
            let detail = ["name", "title", "kind", "capability", "metric"]
                .iter()
                .find_map(|key| item.get(key).and_then(|n| n.text()))
                .map(str::to_owned);
            let end = content_end(text, item);
            let range = view.range(item.start, end);
            let selection = selection.map_or(range, |n| view.range(n.start, n.end.min(end)));
            Some(symbol(
                name,
                detail,
                element_kind(section),
                range,
                selection,
                Vec::new(),
            ))
        })
        .collect()
}

/// The outline of one file.
pub fn symbols(view: &TextView<'_>) -> Vec<DocumentSymbol> {
    let text = view.text;
    let parsed = yaml::parse(text);
    let Some(root) = parsed.root else {
        return Vec::new();
    };
    let NodeKind::Map(entries) = &root.kind else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries {
        let Some(key) = entry.key.text() else {
            continue;
        };
        let end = content_end(text, &entry.value).max(entry.key.end);
        let range = view.range(entry.key.start, end);
        let selection = view.range(entry.key.start, entry.key.end);
        let children = match (&entry.value.kind, key) {
            (NodeKind::Seq(items), _) if key != "includes" => elements(view, key, items),
            (NodeKind::Map(_), "incident_response" | "monitoring") => {
                let list = if key == "monitoring" {
                    "signals"
                } else {
                    "playbooks"
                };
                match entry.value.get(list) {
                    Some(node) => match &node.kind {
                        NodeKind::Seq(items) => {
                            let end = content_end(text, node);
                            let key_node = match &entry.value.kind {
                                NodeKind::Map(inner) => inner
                                    .iter()
                                    .find(|e| e.key.text() == Some(list))
                                    .map(|e| Rc::clone(&e.key)),
                                _ => None,
                            };
                            let start = key_node.as_ref().map_or(node.start, |k| k.start);
                            let selection = key_node
                                .as_ref()
                                .map_or(view.range(start, end), |k| view.range(k.start, k.end));
                            vec![symbol(
                                list.to_owned(),
                                None,
                                SymbolKind::MODULE,
                                view.range(start, end),
                                selection,
                                elements(view, list, items),
                            )]
                        }
                        _ => Vec::new(),
                    },
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        let detail = match &entry.value.kind {
            NodeKind::Seq(items) => Some(format!(
                "{} item{}",
                items.len(),
                if items.len() == 1 { "" } else { "s" }
            )),
            NodeKind::Scalar(s) => Some(s.text.clone()),
            NodeKind::Map(_) => None,
        };
        out.push(symbol(
            key.to_owned(),
            detail,
            section_kind(key),
            range,
            selection,
            children,
        ));
    }
    out
}

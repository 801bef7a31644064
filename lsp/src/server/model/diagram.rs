//! `workspace/executeCommand` `threatlens.diagram`: the threat model's diagram, rendered from
//! what the editor shows (unsaved model buffers included).
//!
//! Arguments: none, or one object `{ "uri"?: string, "format"?: "mermaid" | "dot" | "svg" }`.
//! `uri` is a model file, any other file or a folder of the workspace (its model is the one
//! the configuration points at, as for `threatlens check`); without it, the first workspace
//! folder's model. The result is `{ "format", "text", "uri" (the model's root file),
//! "modelErrors" (how many model errors the diagram was drawn despite) }`.
//!
//! The model is the server's own unit when it has one (the analysis the diagnostics come
//! from); otherwise it is analysed on the spot, with the open model buffers overlaid, without
//! creating a unit (no diagnostics are published for it). Bad arguments are `InvalidParams`;
//! no model to draw is `RequestFailed`.

use super::{ModelAnalysed, ModelInput, analyse};
use crate::server::documents::{DocKind, canonical};
use crate::server::protocol::{Uri, jsonrpc, path_to_uri, uri_to_path};
use crate::server::{Inner, State};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use threatlens_models::render::{Diagram, Format};
use threatlens_rules::Category;

/// The command's name, as advertised in `executeCommandProvider`.
pub const COMMAND: &str = "threatlens.diagram";

/// LSP's `RequestFailed`: the request was valid but could not be carried out.
const REQUEST_FAILED: i64 = -32803;

/// What the client asked for.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub uri: Option<Uri>,
    pub format: Format,
}

/// Reads the command's arguments (see the module docs).
pub fn parse_arguments(arguments: &[Value]) -> Result<Request, String> {
    let mut request = Request {
        uri: None,
        format: Format::Mermaid,
    };
    let options = match arguments {
        [] | [Value::Null] => return Ok(request),
        [Value::Object(options)] => options,
        [_] => {
            return Err(format!(
                "{COMMAND} takes one object argument {{\"uri\"?, \"format\"?}}"
            ));
        }
        _ => return Err(format!("{COMMAND} takes at most one argument")),
    };
    for (key, value) in options {
        match (key.as_str(), value) {
            ("uri", Value::Null) | ("format", Value::Null) => {}
            ("uri", Value::String(text)) => {
                request.uri = Some(
                    Uri::from_str(text).map_err(|e| format!("`uri` is not a URI ({e}): {text}"))?,
                );
            }
            ("format", Value::String(text)) => request.format = text.parse()?,
            ("uri" | "format", _) => return Err(format!("`{key}` must be a string")),
            _ => {
                return Err(format!(
                    "unknown argument `{key}` (expected `uri` and `format`)"
                ));
            }
        }
    }
    Ok(request)
}

fn failed(message: String) -> jsonrpc::Error {
    jsonrpc::Error {
        code: jsonrpc::ErrorCode::ServerError(REQUEST_FAILED),
        message: message.into(),
        data: None,
    }
}

/// Where the model to draw is.
enum Source {
    /// A model the server keeps (by the URI of its root file).
    Unit(Uri),
    /// A model file on disk no unit knows: its canonical path and URI.
    File(PathBuf, Uri),
}

impl Inner {
    /// Runs `threatlens.diagram`.
    pub(crate) async fn diagram_command(
        self: &Arc<Self>,
        arguments: &[Value],
    ) -> jsonrpc::Result<Value> {
        let request = parse_arguments(arguments).map_err(jsonrpc::Error::invalid_params)?;
        let source = {
            let mut st = self.state();
            self.diagram_source(&mut st, request.uri.as_ref())
                .map_err(failed)?
        };
        let analysed = match source {
            Source::Unit(unit) => self.current_model(&unit).await.ok_or_else(|| {
                failed(format!(
                    "the threat model {} could not be analysed",
                    unit.as_str()
                ))
            })?,
            Source::File(path, root) => {
                let (input, config) = {
                    let mut st = self.state();
                    let config = self.config_for(&mut st, Some(&path));
                    (snapshot_model(&st, path, root), config)
                };
                tokio::task::spawn_blocking(move || Arc::new(analyse(input, &config)))
                    .await
                    .map_err(|_| jsonrpc::Error::internal_error())?
            }
        };
        let format = request.format;
        let rendered = tokio::task::spawn_blocking(move || render(&analysed, format))
            .await
            .map_err(|_| jsonrpc::Error::internal_error())?;
        rendered.map_err(failed)
    }

    /// The model `uri` belongs to (see the module docs).
    fn diagram_source(&self, st: &mut State, uri: Option<&Uri>) -> Result<Source, String> {
        if let Some(uri) = uri {
            if st.docs.get(uri).is_some_and(|d| d.kind == DocKind::Model) {
                return self
                    .model_of(st, uri)
                    .map(Source::Unit)
                    .ok_or_else(|| format!("{} is not part of a known model", uri.as_str()));
            }
            if st.models.contains_key(uri) {
                return Ok(Source::Unit(uri.clone()));
            }
        }
        let path = match uri {
            Some(uri) => uri_to_path(uri).ok_or_else(|| {
                format!(
                    "{} is not a file of the workspace: pass a model file or a folder",
                    uri.as_str()
                )
            })?,
            None => st.roots.first().cloned().ok_or_else(|| {
                "no workspace folder: pass the `uri` of the threat model".to_owned()
            })?,
        };
        let model = self.model_path_for(st, &path);
        if !model.is_file() {
            return Err(format!(
                "no threat model for {}: {} does not exist (create one with `threatlens init`)",
                path.display(),
                model.display()
            ));
        }
        let canonical = canonical(&model);
        if let Some(unit) = st.models.values().find(|m| m.contains(&canonical)) {
            return Ok(Source::Unit(unit.root.clone()));
        }
        let root = path_to_uri(&canonical)
            .ok_or_else(|| format!("{} has no file URI", canonical.display()))?;
        Ok(Source::File(canonical, root))
    }

    /// A model file itself, or the model the configuration of a file or folder points at.
    fn model_path_for(&self, st: &mut State, path: &Path) -> PathBuf {
        let is_model_file = path.is_file()
            && crate::model::is_yaml_path(path)
            && std::fs::read_to_string(path).is_ok_and(|text| crate::model::is_model_text(&text));
        if is_model_file {
            return path.to_path_buf();
        }
        // `config_for` looks a file's configuration up; a folder is asked for by a file in it.
        let probe = if path.is_dir() {
            path.join(threatlens_models::DEFAULT_MODEL_FILE)
        } else {
            path.to_path_buf()
        };
        let config = self.config_for(st, Some(&probe));
        crate::model::configured_path(&config).0
    }
}

/// What analysing the model at `path` needs, with the open model buffers overlaid.
fn snapshot_model(st: &State, path: PathBuf, root: Uri) -> ModelInput {
    let open: HashMap<PathBuf, (Uri, i32, String)> = st
        .docs
        .values()
        .filter(|d| d.kind == DocKind::Model)
        .filter_map(|d| {
            let canonical = d.canonical.clone()?;
            Some((canonical, (d.uri.clone(), d.version, d.text.clone())))
        })
        .collect();
    ModelInput {
        root,
        path: Some(path),
        root_text: None,
        open,
        today: super::today(),
        revision: 0,
    }
}

/// The command's result for an analysed model.
fn render(analysed: &ModelAnalysed, format: Format) -> Result<Value, String> {
    let analysis = &analysed.analysis;
    let text = Diagram::of(analysis).render(format)?;
    let errors = analysis
        .report
        .findings()
        .filter(|(_, f)| f.category == Category::ModelError)
        .count();
    let uri = analysed.files.first().map(|f| f.uri.as_str().to_owned());
    Ok(json!({
        "format": format.as_str(),
        "text": text,
        "uri": uri,
        "modelErrors": errors,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_optional() {
        let defaults = Request {
            uri: None,
            format: Format::Mermaid,
        };
        assert_eq!(parse_arguments(&[]), Ok(defaults));
        assert_eq!(
            parse_arguments(&[json!({"format": "dot"})]).map(|r| r.format),
            Ok(Format::Dot)
        );
        let request =
            parse_arguments(&[json!({"uri": "file:///p/threatmodel.yaml", "format": "svg"})]);
        assert!(
            request.as_ref().is_ok_and(|r| r.format == Format::Svg
                && r.uri.as_ref().map(|u| u.as_str()) == Some("file:///p/threatmodel.yaml")),
            "{request:?}"
        );
    }

    #[test]
    fn bad_arguments_are_errors() {
        for (arguments, expected) in [
            (
                vec![json!({"format": "png"})],
                "unknown diagram format `png`",
            ),
            (vec![json!({"format": 3})], "`format` must be a string"),
            (vec![json!({"uri": "not a uri"})], "`uri` is not a URI"),
            (vec![json!({"url": "file:///x"})], "unknown argument `url`"),
            (vec![json!("file:///x")], "takes one object argument"),
            (vec![json!({}), json!({})], "at most one argument"),
        ] {
            let error = parse_arguments(&arguments).err().unwrap_or_default();
            assert!(error.contains(expected), "{arguments:?}: {error}");
        }
    }
}

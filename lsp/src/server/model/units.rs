//! Model units in the server's state: storing analyses, publishing every file's diagnostics,
//! requests on the current analysis, closing files, the workspace's model, changes on disk.

use super::{ModelAnalysed, ModelUnit};
use crate::server::analysis::{self, Outcome};
use crate::server::diagnostics::{Single, diagnostic, is_shown};
use crate::server::documents::{DocKind, Encoding, canonical};
use crate::server::protocol::{Diagnostic, MessageType, Uri, path_to_uri};
use crate::server::{Inner, Prepared, State};
use std::path::PathBuf;
use std::sync::Arc;
use threatlens_rules::Severity;

/// The diagnostics of every file of a model (and empty ones for files no longer in it).
pub fn model_diagnostics(
    unit: &mut ModelUnit,
    minimum: Severity,
    encoding: Encoding,
) -> Vec<(Uri, Vec<Diagnostic>, Option<i32>)> {
    let Some(analysed) = unit.analysis.clone() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (index, file) in analysed.files.iter().enumerate() {
        let Some(view) = analysed.view(index, encoding) else {
            continue;
        };
        let views = Single(view);
        let diagnostics = analysed
            .analysis
            .report
            .files
            .get(index)
            .map(|f| {
                f.findings
                    .iter()
                    .filter(|f| is_shown(f, minimum))
                    .filter_map(|f| diagnostic(f, &views).map(|(_, d)| d))
                    .collect()
            })
            .unwrap_or_default();
        out.push((file.uri.clone(), diagnostics, file.version));
    }
    let now: Vec<Uri> = out.iter().map(|(u, _, _)| u.clone()).collect();
    for gone in unit.published.iter().filter(|u| !now.contains(u)) {
        out.push((gone.clone(), Vec::new(), None));
    }
    unit.published = now;
    out
}

impl Inner {
    /// Keeps a model analysis if the unit is still at `revision`; learns the model's files, and
    /// folds into this unit the units of open files it turns out to include.
    pub(crate) fn store_model(
        &self,
        st: &mut State,
        unit: &Uri,
        revision: i32,
        outcome: &mut Outcome,
    ) -> bool {
        let Some(analysed) = outcome.model.take() else {
            return false;
        };
        let Some(model) = st.models.get_mut(unit) else {
            return false;
        };
        if model.revision != revision {
            return false;
        }
        let members: Vec<PathBuf> = analysed
            .files
            .iter()
            .filter_map(|f| f.canonical.clone())
            .collect();
        if !members.is_empty() {
            model.members = members.clone();
        }
        model.keep(Arc::new(analysed));
        let root = model.root.clone();
        let swallowed: Vec<Uri> = st
            .models
            .values()
            .filter(|m| m.root != root && !m.workspace)
            .filter(|m| {
                m.members
                    .first()
                    .is_some_and(|first| members.iter().skip(1).any(|p| p == first))
            })
            .map(|m| m.root.clone())
            .collect();
        for other in swallowed {
            if let Some(gone) = st.models.remove(&other) {
                st.pending.remove(&other);
                // Its documents now get their diagnostics from this unit; any other file it had
                // published is cleared by the next publish of this unit.
                if let Some(model) = st.models.get_mut(unit) {
                    for uri in gone.published {
                        if !model.published.contains(&uri) {
                            model.published.push(uri);
                        }
                    }
                }
            }
        }
        true
    }

    /// The analysis of a model's current revision, analysing it now if need be.
    pub(crate) async fn current_model(self: &Arc<Self>, unit: &Uri) -> Option<Arc<ModelAnalysed>> {
        let prepared = {
            let mut st = self.state();
            self.guard("analysis setup", || self.prepare(&mut st, unit, false))
                .flatten()?
        };
        match prepared {
            Prepared::Ready => self.state().models.get(unit)?.analysis.clone(),
            Prepared::Skip(_) => None,
            Prepared::Run(job) => {
                let revision = job.version;
                let mut outcome = tokio::task::spawn_blocking(move || analysis::run(job))
                    .await
                    .ok()?;
                for error in &outcome.errors {
                    self.log(MessageType::ERROR, format!("{}: {error}", unit.as_str()));
                }
                let analysed = outcome.model.take().map(Arc::new)?;
                let mut st = self.state();
                if let Some(model) = st.models.get_mut(unit)
                    && model.revision == revision
                {
                    model.keep(Arc::clone(&analysed));
                }
                Some(analysed)
            }
        }
    }

    /// For a request on document `uri`: the current analysis of its model, the index of the
    /// document among the model's files, and the position encoding.
    pub(crate) async fn model_request(
        self: &Arc<Self>,
        uri: &Uri,
    ) -> Option<(Arc<ModelAnalysed>, usize, Encoding)> {
        let (unit, encoding) = {
            let st = self.state();
            if st.docs.get(uri)?.kind != DocKind::Model {
                return None;
            }
            (self.model_of(&st, uri)?, st.encoding)
        };
        let analysed = self.current_model(&unit).await?;
        let file = analysed.file_of(uri)?;
        Some((analysed, file, encoding))
    }

    /// The last analysis of the model of document `uri` whose YAML was readable.
    pub(crate) fn last_good(&self, uri: &Uri) -> Option<Arc<ModelAnalysed>> {
        let st = self.state();
        let unit = self.model_of(&st, uri)?;
        st.models.get(&unit)?.last_good.clone()
    }

    /// A model file was closed: re-check its model from disk, or forget a model none of whose
    /// files is open any more (clearing its diagnostics).
    pub(crate) async fn model_doc_closed(self: &Arc<Self>, canonical: Option<PathBuf>, uri: &Uri) {
        let (reschedule, forgotten) = {
            let mut st = self.state();
            let unit = st
                .models
                .values()
                .find(|m| &m.root == uri || canonical.as_deref().is_some_and(|c| m.contains(c)))
                .map(|m| m.root.clone());
            let Some(unit) = unit else {
                return;
            };
            let still_open = st.models.get(&unit).is_some_and(|m| {
                st.docs.values().any(|d| {
                    d.kind == DocKind::Model
                        && (d.uri == m.root
                            || d.canonical.as_deref().is_some_and(|c| m.contains(c)))
                })
            });
            let keep = still_open || st.models.get(&unit).is_some_and(|m| m.workspace);
            if keep {
                if let Some(model) = st.models.get_mut(&unit) {
                    model.revision += 1;
                }
                (Some(unit), None)
            } else {
                st.pending.remove(&unit);
                (None, st.models.remove(&unit))
            }
        };
        if let Some(unit) = reschedule {
            self.schedule(unit, true);
        }
        if let Some(model) = forgotten {
            let _publishing = self.publish.lock().await;
            for uri in model.published {
                self.client.publish_diagnostics(uri, Vec::new(), None).await;
            }
        }
    }

    /// The workspace's models (the model each root's configuration points at): a unit for each
    /// that exists, checked now.
    pub(crate) fn discover_models(self: &Arc<Self>) {
        let units: Vec<Uri> = {
            let mut st = self.state();
            let roots = st.roots.clone();
            let mut units = Vec::new();
            for root in roots {
                let config = self.config_for(&mut st, Some(&root));
                let (path, _) = crate::model::configured_path(&config);
                if !path.is_file() {
                    continue;
                }
                let canonical = canonical(&path);
                let existing = st
                    .models
                    .values_mut()
                    .find(|m| m.members.first() == Some(&canonical));
                let unit = match existing {
                    Some(model) => {
                        model.workspace = true;
                        if model.analysis.is_some() {
                            continue;
                        }
                        model.revision += 1;
                        model.root.clone()
                    }
                    None => {
                        let Some(uri) = path_to_uri(&canonical) else {
                            continue;
                        };
                        let mut model = ModelUnit::new(uri.clone(), Some(canonical), true);
                        model.revision = 1;
                        st.models.insert(uri.clone(), model);
                        uri
                    }
                };
                units.push(unit);
            }
            units
        };
        for unit in units {
            self.schedule(unit, true);
        }
    }

    /// Files changed on disk: re-check the models they belong to (their open buffers still
    /// win); a model whose root file is deleted is forgotten. A new model file where the
    /// configuration expects one is picked up.
    pub(crate) async fn models_changed_on_disk(
        self: &Arc<Self>,
        changed: &[PathBuf],
        deleted: &[PathBuf],
    ) {
        let (reschedule, forgotten) = {
            let mut st = self.state();
            let mut reschedule = Vec::new();
            let mut forgotten = Vec::new();
            for path in deleted {
                let canonical = canonical(path);
                let gone: Vec<Uri> = st
                    .models
                    .values()
                    .filter(|m| {
                        m.members.first() == Some(&canonical) || m.path.as_deref() == Some(path)
                    })
                    .map(|m| m.root.clone())
                    .collect();
                for unit in gone {
                    st.pending.remove(&unit);
                    if let Some(model) = st.models.remove(&unit) {
                        forgotten.push(model);
                    }
                }
            }
            for path in changed.iter().chain(deleted) {
                let canonical = canonical(path);
                for model in st.models.values_mut().filter(|m| m.contains(&canonical)) {
                    model.revision += 1;
                    reschedule.push(model.root.clone());
                }
            }
            (reschedule, forgotten)
        };
        if !forgotten.is_empty() {
            let _publishing = self.publish.lock().await;
            for model in forgotten {
                for uri in model.published {
                    self.client.publish_diagnostics(uri, Vec::new(), None).await;
                }
            }
        }
        for unit in reschedule {
            self.schedule(unit, false);
        }
        let expected = changed.iter().any(|path| {
            let st = self.state();
            !st.models.values().any(|m| m.contains(&canonical(path)))
        });
        if expected {
            self.discover_models();
        }
    }

    /// Marks every model stale and re-checks it (configuration changed).
    pub(crate) fn recheck_models(self: &Arc<Self>) {
        let units: Vec<Uri> = {
            let mut st = self.state();
            st.models
                .values_mut()
                .map(|m| {
                    m.revision += 1;
                    m.root.clone()
                })
                .collect()
        };
        for unit in units {
            self.schedule(unit, true);
        }
    }
}

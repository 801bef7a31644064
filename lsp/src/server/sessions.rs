//! Editing sessions of open Python documents (`threatlens_rules::lang::python::session`): after
//! an edit inside one function, only that function is analysed again.
//!
//! A session keeps the analysis's reference-counted state, which cannot move between threads,
//! so sessions live on one thread of their own and analyses of open Python documents are sent
//! there (from the blocking pool) and answered over a channel. Only open documents have one:
//! closing a document forgets its session, and so does a new index of the workspace's modules
//! (the constants a document imports may have changed).

use super::analysis::Place;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, mpsc};
use threatlens_rules::analyse::analyse_python_in_session;
use threatlens_rules::lang::python::session::{Fallback, Reuse, Session};
use threatlens_rules::project::Project;
use threatlens_rules::{Catalogue, Finding};
use tree_sitter::Tree;

/// A document's findings, how much of the previous analysis was reused (and why not more), or
/// why the analysis failed.
type Answer = Result<(Vec<Finding>, Option<Reuse>, Option<Fallback>), String>;

enum Request {
    Analyse {
        document: String,
        text: String,
        tree: Tree,
        /// Only its module index and path are read (exceptions apply after the analysis).
        place: Place,
        /// Start again from a whole analysis.
        whole: bool,
        reply: mpsc::Sender<Answer>,
    },
    Forget(String),
}

/// The handle of the sessions' thread; the thread ends when the handle is dropped.
pub struct Sessions {
    requests: mpsc::Sender<Request>,
}

impl Sessions {
    pub fn start(catalogue: &'static Catalogue) -> std::io::Result<Self> {
        let (requests, inbox) = mpsc::channel();
        std::thread::Builder::new()
            .name("threatlens-sessions".into())
            .spawn(move || serve(catalogue, inbox))?;
        Ok(Self { requests })
    }

    /// Analyses a new version of an open Python document (blocks until done); `whole`: the
    /// whole file, whatever the session could reuse.
    pub fn analyse(
        &self,
        document: &str,
        text: String,
        tree: Tree,
        place: Place,
        whole: bool,
    ) -> Answer {
        let (reply, answer) = mpsc::channel();
        let request = Request::Analyse {
            document: document.to_owned(),
            text,
            tree,
            place,
            whole,
            reply,
        };
        self.requests
            .send(request)
            .map_err(|_| "the sessions' thread has stopped".to_string())?;
        answer
            .recv()
            .map_err(|_| "the sessions' thread has stopped".to_string())?
    }

    /// Drops what is kept for a document (it was closed).
    pub fn forget(&self, document: &str) {
        // A stopped thread keeps nothing.
        let _ = self.requests.send(Request::Forget(document.to_owned()));
    }
}

fn serve(catalogue: &'static Catalogue, inbox: mpsc::Receiver<Request>) {
    // Each session with the project index it was analysed against.
    let mut sessions: HashMap<String, (Session, Option<Arc<Project>>)> = HashMap::new();
    for request in inbox {
        match request {
            Request::Analyse {
                document,
                text,
                tree,
                place,
                whole,
                reply,
            } => {
                let (session, indexed) = sessions.entry(document.clone()).or_default();
                let same_index = match (&*indexed, &place.project) {
                    (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                    (a, b) => a.is_none() && b.is_none(),
                };
                if whole || !same_index {
                    *session = Session::new();
                    indexed.clone_from(&place.project);
                }
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    let findings = analyse_python_in_session(
                        session,
                        catalogue,
                        &text,
                        &tree,
                        &place.context(),
                    );
                    (findings, session.last_reuse(), session.last_fallback())
                }));
                let outcome = outcome.map_err(|payload| {
                    // What it kept may be half-updated.
                    sessions.remove(&document);
                    super::analysis::panic_message(payload.as_ref())
                });
                // The asker may have gone (the server is shutting down).
                let _ = reply.send(outcome);
            }
            Request::Forget(document) => {
                sessions.remove(&document);
            }
        }
    }
}

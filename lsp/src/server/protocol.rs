//! The one place that names the LSP framework and its types.
//!
//! Everything else in `server/` imports LSP types from here, so the coming tower-lsp-server 0.24
//! switch (`ls_types` becomes `gen_lsp_types`, enum case changes, `Uri::from_file_path` gone) is a
//! change to this file plus whatever no longer compiles, not a hunt through every module.

pub use tower_lsp_server::jsonrpc;
pub use tower_lsp_server::ls_types::*;
pub use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use std::path::{Path, PathBuf};

/// The local path of a `file:` URI (`None` for `untitled:` buffers, cells and other schemes).
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    if uri.scheme().as_str() != "file" {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let absolute = std::path::absolute(path).ok()?;
    Uri::from_file_path(absolute)
}

//! Go to definition, find references and rename, for element ids across every file of the model.
//!
//! An id occurs where it is defined (`id:`), where another element references it (the crate's
//! `Model::references`), and as the target of an exception. Rename rewrites all of them (inside
//! the quotes of a quoted scalar), refusing a new id that is not one (`^[A-Za-z0-9][A-Za-z0-9-]*$`)
//! or that another element already has.

use super::{ModelAnalysed, Occ, kind_word, occurrences};
use crate::server::documents::Encoding;
use crate::server::protocol::{Location, Range, TextEdit, Uri};

/// Where the id at the cursor is defined.
pub fn definition(
    analysed: &ModelAnalysed,
    file: usize,
    offset: usize,
    encoding: Encoding,
) -> Option<Location> {
    let occurrence = analysed.occurrence_at(file, offset)?;
    let loc = analysed.model().definition_loc(&occurrence.id)?;
    analysed.location(&loc, encoding)
}

/// Every place the id at the cursor occurs (its definition too when `declaration`).
pub fn references(
    analysed: &ModelAnalysed,
    file: usize,
    offset: usize,
    declaration: bool,
    encoding: Encoding,
) -> Vec<Location> {
    let Some(occurrence) = analysed.occurrence_at(file, offset) else {
        return Vec::new();
    };
    let mut all: Vec<_> = occurrences(analysed.model())
        .into_iter()
        .filter(|o| o.id == occurrence.id)
        .filter(|o| declaration || !matches!(o.what, Occ::Definition(_)))
        .collect();
    all.sort_by_key(|o| (o.loc.file, o.loc.span.start_byte));
    all.dedup_by_key(|o| (o.loc.file, o.loc.span.start_byte));
    all.iter()
        .filter_map(|o| analysed.location(&o.loc, encoding))
        .collect()
}

/// The range and current text of a renamable id at the cursor (a defined element's id).
pub fn prepare_rename(
    analysed: &ModelAnalysed,
    file: usize,
    offset: usize,
    encoding: Encoding,
) -> Option<(Range, String)> {
    let occurrence = analysed.occurrence_at(file, offset)?;
    analysed.model().lookup(&occurrence.id)?;
    Some((analysed.range(&occurrence.loc, encoding)?, occurrence.id))
}

pub fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The edits that rename the id at the cursor to `new_id`, per document (with the version of
/// the buffer they apply to, when it is open).
pub fn rename(
    analysed: &ModelAnalysed,
    file: usize,
    offset: usize,
    new_id: &str,
    encoding: Encoding,
) -> Result<Vec<(Uri, Option<i32>, TextEdit)>, String> {
    let Some(occurrence) = analysed.occurrence_at(file, offset) else {
        return Err("there is no element id here to rename".into());
    };
    let model = analysed.model();
    if model.lookup(&occurrence.id).is_none() {
        return Err(format!(
            "`{}` is not defined in this model: define it, or fix the reference",
            occurrence.id
        ));
    }
    if !is_valid_id(new_id) {
        return Err(format!(
            "`{new_id}` is not a valid id: use letters, digits and `-`, starting with a letter or digit"
        ));
    }
    if new_id != occurrence.id
        && let Some((kind, _)) = model.lookup(new_id)
    {
        return Err(format!(
            "`{new_id}` is already the id of {} {}",
            kind_word(kind),
            new_id
        ));
    }
    let mut all: Vec<_> = occurrences(model)
        .into_iter()
        .filter(|o| o.id == occurrence.id)
        .collect();
    all.sort_by_key(|o| (o.loc.file, o.loc.span.start_byte));
    all.dedup_by_key(|o| (o.loc.file, o.loc.span.start_byte));
    Ok(all
        .iter()
        .filter_map(|o| {
            let file = analysed.files.get(o.loc.file)?;
            Some((
                file.uri.clone(),
                file.version,
                TextEdit {
                    range: analysed.range(&o.loc, encoding)?,
                    new_text: new_id.to_owned(),
                },
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::testing::analysed;
    use super::*;

    const TEXT: &str = "schema: threatlens/v1
components:
  - {id: app, kind: process}
  - {id: 'db', kind: data-store}
flows:
  - {id: write, from: app, to: db}
exceptions:
  - {rule: TM101, target: db, justification: Not an LLM., approved_by: ciso, expires: 2027-01-01}
  - {rule: TL110, target: \"code:db/**\", justification: Signed., approved_by: ciso, expires: 2027-01-01}
";

    #[test]
    fn rename_covers_references_exception_targets_and_quoted_ids() {
        let model = analysed(TEXT);
        let offset = TEXT.find("to: db").map(|i| i + 4).unwrap_or(0);
        let edits =
            rename(&model, 0, offset, "store", Encoding::Utf16).unwrap_or_else(|e| panic!("{e}"));
        let lines: Vec<(u32, u32, u32)> = edits
            .iter()
            .map(|(_, _, e)| {
                (
                    e.range.start.line,
                    e.range.start.character,
                    e.range.end.character,
                )
            })
            .collect();
        // The quoted definition (inside its quotes), the flow's `to`, the exception's target; not
        // the `code:` glob that happens to contain the id.
        assert_eq!(lines, [(3, 10, 12), (5, 31, 33), (7, 26, 28)]);
        assert!(
            edits
                .iter()
                .all(|(_, version, e)| version.is_none() && e.new_text == "store")
        );
        assert!(rename(&model, 0, offset, "app", Encoding::Utf16).is_err());
        assert!(rename(&model, 0, offset, "-x", Encoding::Utf16).is_err());
        assert!(rename(&model, 0, 0, "x", Encoding::Utf16).is_err());
        assert!(is_valid_id("T-01") && !is_valid_id("a b") && !is_valid_id(""));
    }

    #[test]
    fn definition_and_references() {
        let model = analysed(TEXT);
        let offset = TEXT.find("from: app").map(|i| i + 6).unwrap_or(0);
        let location = definition(&model, 0, offset, Encoding::Utf16)
            .unwrap_or_else(|| panic!("a definition"));
        assert_eq!(
            (location.range.start.line, location.range.start.character),
            (2, 9)
        );
        assert_eq!(
            references(&model, 0, offset, true, Encoding::Utf16).len(),
            2
        );
        assert_eq!(
            references(&model, 0, offset, false, Encoding::Utf16).len(),
            1
        );
        // Not on an id: nothing.
        assert!(definition(&model, 0, 3, Encoding::Utf16).is_none());
    }
}

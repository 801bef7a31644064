//! Validation of a merged model: ids, references, framework ids and vocabularies. Everything
//! here is a model error (or, for ATLAS ids outside the library's list, a note) at the offending
//! value; nothing stops the checks from running on what could be read.

use crate::de::{Loc, Spanned, did_you_mean};
use crate::diag::{Diag, Problem};
use crate::format::{AtlasId, CweId, Iso27001Id, Iso42001Id, Threat};
use crate::library::library;
use crate::model::{ElementKind, Model};
use std::collections::HashMap;

/// Which OWASP list an id belongs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwaspList {
    Llm,
    Ml,
}

/// Check an OWASP id: `LLMnn:2025` / `LLMnn:2026` (Top 10 for LLM Applications; the 2026
/// edition renumbers the list) or `MLnn:2023` (ML Security Top 10), nn in 01..10. With `list`,
/// the id must belong to that list.
pub fn check_owasp(id: &str, list: Option<OwaspList>) -> Result<(), String> {
    let (prefix, rest, found) = if let Some(rest) = id.strip_prefix("LLM") {
        ("LLM", rest, OwaspList::Llm)
    } else if let Some(rest) = id.strip_prefix("ML") {
        ("ML", rest, OwaspList::Ml)
    } else {
        return Err(format!(
            "`{id}` is not an OWASP id; write `LLMnn:2025` (Top 10 for LLM Applications) or \
             `MLnn:2023` (ML Security Top 10)"
        ));
    };
    let (number, year) = match rest.split_once(':') {
        Some((n, y)) => (n, Some(y)),
        None => (rest, None),
    };
    let valid_number = number.len() == 2
        && number.bytes().all(|b| b.is_ascii_digit())
        && (1..=10).contains(&number.parse::<u8>().unwrap_or(0));
    if !valid_number {
        return Err(format!(
            "`{id}`: OWASP Top 10 numbers run from {prefix}01 to {prefix}10"
        ));
    }
    let years: &[&str] = match found {
        OwaspList::Llm => &["2025", "2026"],
        OwaspList::Ml => &["2023"],
    };
    match year {
        None => {
            let hint = match found {
                OwaspList::Llm => format!(
                    "`{id}` needs its edition year: write `{id}:2025` (the 2026 edition renumbers \
                     the list, so an id without a year is ambiguous)"
                ),
                OwaspList::Ml => format!(
                    "`{id}` needs its edition year: write `{id}:2023` (OWASP ML Security Top 10, \
                     2023 edition)"
                ),
            };
            return Err(hint);
        }
        Some(y) if !years.contains(&y) => {
            return Err(format!(
                "`{id}`: no {prefix} Top 10 edition {y}; use {}",
                years
                    .iter()
                    .map(|y| format!("`{prefix}{number}:{y}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
        Some(_) => {}
    }
    match list {
        Some(expected) if expected != found => Err(format!(
            "`{id}` belongs in `{}`",
            if found == OwaspList::Llm {
                "owasp_llm"
            } else {
                "owasp_ml"
            }
        )),
        _ => Ok(()),
    }
}

/// Whether an ATLAS id is well formed: `AML.T` + 4 digits, optionally `.` + 3 digits.
pub fn atlas_syntax_ok(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("AML.T") else {
        return false;
    };
    let (technique, sub) = match rest.split_once('.') {
        Some((t, s)) => (t, Some(s)),
        None => (rest, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    digits(technique, 4) && sub.is_none_or(|s| digits(s, 3))
}

/// Whether an id follows the id syntax: letters, digits and `-`, starting with a letter or digit.
pub fn id_syntax_ok(id: &str) -> bool {
    let mut bytes = id.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// How many dangling references get a "did you mean" suggestion.
const MAX_SUGGESTIONS: usize = 200;

struct Validator<'m> {
    model: &'m Model,
    diags: Vec<Diag>,
}

impl Validator<'_> {
    fn push(&mut self, problem: Problem, loc: Loc, message: String) {
        self.diags.push(Diag::new(problem, loc, message));
    }

    fn ids(&mut self) {
        let mut first: HashMap<&str, (crate::model::ElementKind, Loc)> = HashMap::new();
        // In document order, so the second occurrence is the one reported.
        let mut defs: Vec<_> = self.model.definitions().collect();
        defs.sort_by_key(|(_, id, _)| (id.loc.file, id.loc.span.start_byte));
        for (kind, id, _) in defs {
            if !id_syntax_ok(id.as_str()) {
                self.push(
                    Problem::InvalidId,
                    id.loc,
                    format!(
                        "`{id}` is not a valid id: use letters, digits and `-`, starting with a \
                         letter or digit (e.g. `{}`)",
                        suggest_id(id.as_str())
                    ),
                );
            }
            match first.get(id.as_str()) {
                Some((other, loc)) => {
                    let message = format!(
                        "duplicate id `{id}`: {} already has it (line {}); ids are unique across \
                         the model",
                        other.noun(),
                        loc.span.start.line
                    );
                    self.push(Problem::DuplicateId, id.loc, message);
                }
                None => {
                    first.insert(id.as_str(), (kind, id.loc));
                }
            }
        }
    }

    fn references(&mut self) {
        let model = self.model;
        // Suggestions cost a comparison with every id of the expected kinds: offer them for the
        // first few dangling references only, so a file full of them stays fast to check.
        let mut suggestions_left = MAX_SUGGESTIONS;
        let mut candidates: HashMap<&'static [ElementKind], Vec<&str>> = HashMap::new();
        for reference in model.references() {
            let id = reference.id.as_str();
            if model.broken_ids.contains(id) {
                continue;
            }
            match model.lookup(id) {
                Some((kind, _)) if reference.expects.contains(&kind) => {}
                Some((kind, _)) => {
                    let expected: Vec<&str> = reference.expects.iter().map(|k| k.noun()).collect();
                    self.push(
                        Problem::WrongReferenceKind,
                        reference.id.loc,
                        format!(
                            "`{id}` is {}, but `{}` needs {}",
                            kind.noun(),
                            reference.role,
                            expected.join(" or ")
                        ),
                    );
                }
                None => {
                    let expected: Vec<&str> = reference.expects.iter().map(|k| k.noun()).collect();
                    let mut message = format!(
                        "`{id}` is not defined: `{}` needs the id of {}",
                        reference.role,
                        expected.join(" or ")
                    );
                    if suggestions_left > 0 {
                        suggestions_left -= 1;
                        let known = candidates.entry(reference.expects).or_insert_with(|| {
                            model
                                .definitions()
                                .filter(|(k, _, _)| reference.expects.contains(k))
                                .map(|(_, id, _)| id.as_str())
                                .collect()
                        });
                        if let Some(best) = did_you_mean(id, known.iter().copied()) {
                            message.push_str(&format!("; did you mean `{best}`?"));
                        }
                    }
                    self.push(Problem::DanglingReference, reference.id.loc, message);
                }
            }
        }
    }

    fn iso27001(&mut self, ids: &[Spanned<Iso27001Id>]) {
        for id in ids {
            if !library().is_iso27001(id.as_str()) {
                let mut message = format!(
                    "`{id}` is not an ISO/IEC 27001:2022 Annex A control (A.5.1–A.5.37, \
                     A.6.1–A.6.8, A.7.1–A.7.14, A.8.1–A.8.34)"
                );
                if !id.starts_with("A.") && library().is_iso27001(&format!("A.{id}")) {
                    message.push_str(&format!("; write `A.{id}`"));
                }
                self.push(Problem::InvalidIso27001, id.loc, message);
            }
        }
    }

    fn iso42001(&mut self, ids: &[Spanned<Iso42001Id>]) {
        for id in ids {
            if !library().is_iso42001(id.as_str()) {
                let mut message = format!(
                    "`{id}` is not an ISO/IEC 42001:2023 Annex A control (38 controls, A.2.2–A.10.4)"
                );
                if !id.starts_with("A.") && library().is_iso42001(&format!("A.{id}")) {
                    message.push_str(&format!("; write `A.{id}`"));
                } else if library().is_iso27001(id.as_str()) {
                    message.push_str("; it is an ISO/IEC 27001 control: move it to `iso27001`");
                }
                self.push(Problem::InvalidIso42001, id.loc, message);
            }
        }
    }

    fn atlas(&mut self, ids: &[Spanned<AtlasId>]) {
        for id in ids {
            if !atlas_syntax_ok(id.as_str()) {
                self.push(
                    Problem::InvalidAtlas,
                    id.loc,
                    format!(
                        "`{id}` is not a MITRE ATLAS technique id: write `AML.Tnnnn` or \
                         `AML.Tnnnn.nnn` (e.g. `AML.T0051.000`)"
                    ),
                );
            } else if library().atlas_title(id.as_str()).is_none() {
                self.push(
                    Problem::UnlistedAtlas,
                    id.loc,
                    format!(
                        "`{id}` is well formed but not among the ATLAS {} techniques the library \
                         lists; check it against atlas.mitre.org",
                        library().atlas_version
                    ),
                );
            }
        }
    }

    fn threat(&mut self, threat: &Threat) {
        self.atlas(&threat.atlas);
        for id in &threat.owasp_llm {
            if let Err(message) = check_owasp(id.as_str(), Some(OwaspList::Llm)) {
                self.push(Problem::InvalidOwasp, id.loc, message);
            }
        }
        for id in &threat.owasp_ml {
            if let Err(message) = check_owasp(id.as_str(), Some(OwaspList::Ml)) {
                self.push(Problem::InvalidOwasp, id.loc, message);
            }
        }
        for id in &threat.cwe {
            self.cwe(id);
        }
        if let Some(aitl) = &threat.library
            && library().threat(aitl.as_str()).is_none()
        {
            let ids: Vec<&str> = library().threats.iter().map(|t| t.id.as_str()).collect();
            let mut message =
                format!("`{aitl}` is not an AI threat library id (AITL-001 … AITL-047)");
            if let Some(best) = did_you_mean(aitl.as_str(), ids) {
                message.push_str(&format!("; did you mean `{best}`?"));
            }
            self.push(Problem::UnknownLibraryThreat, aitl.loc, message);
        }
        if let Some(rule) = &threat.rule {
            self.rule_name(rule);
        }
        let scores = [threat.likelihood.as_ref(), threat.impact.as_ref()]
            .into_iter()
            .chain(threat.treatment.iter().flat_map(|t| {
                t.residual
                    .iter()
                    .flat_map(|r| [Some(&r.likelihood), Some(&r.impact)])
            }))
            .flatten();
        let bad: Vec<_> = scores
            .filter(|s| !(1..=5).contains(&s.value))
            .map(|s| (s.loc, s.value))
            .collect();
        for (loc, value) in bad {
            self.push(
                Problem::InvalidScore,
                loc,
                format!(
                    "likelihood and impact run from 1 to 5 (`scope.risk_criteria`), not {value}"
                ),
            );
        }
    }

    fn cwe(&mut self, id: &Spanned<CweId>) {
        let ok = id
            .strip_prefix("CWE-")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            self.push(
                Problem::InvalidCwe,
                id.loc,
                format!("`{id}` is not a CWE id; write `CWE-<number>`"),
            );
        }
    }

    fn rule_name(&mut self, rule: &Spanned<String>) {
        if library().find_rule(rule.as_str()).is_some() || is_code_rule(rule.as_str()) {
            return;
        }
        let keys = library().rule_keys();
        let mut message = format!(
            "unknown rule `{rule}`: give a threat-model rule id (`TM128`), its slug or its library \
             name (`R-SERVE-UNVERIFIED-MODEL`), or a code rule id (`TL101`)"
        );
        if let Some(best) = did_you_mean(rule.as_str(), keys) {
            message.push_str(&format!("; did you mean `{best}`?"));
        }
        self.push(Problem::UnknownRule, rule.loc, message);
    }

    fn controls(&mut self) {
        let model = self.model;
        for control in &model.controls {
            let cap = control.capability.as_str();
            if !library().is_capability(cap) {
                let mut message = format!("unknown capability `{cap}`");
                match did_you_mean(cap, library().capability_names()) {
                    Some(best) => message.push_str(&format!("; did you mean `{best}`?")),
                    None => message.push_str(&format!(
                        "; expected one of: {}",
                        library().capability_names().join(", ")
                    )),
                }
                self.push(Problem::UnknownCapability, control.capability.loc, message);
            }
            self.iso27001(&control.iso27001);
            self.iso42001(&control.iso42001);
        }
    }

    fn rest(&mut self) {
        let model = self.model;
        for supplier in &model.suppliers {
            self.iso27001(&supplier.iso27001);
            self.iso42001(&supplier.iso42001);
        }
        for playbook in model.playbooks() {
            self.iso27001(&playbook.iso27001);
            self.iso42001(&playbook.iso42001);
        }
        if let Some(logging) = model.monitoring.as_ref().and_then(|m| m.logging.as_ref()) {
            self.iso27001(&logging.iso27001);
            self.iso42001(&logging.iso42001);
        }
        for threat in &model.threats {
            self.threat(threat);
        }
        for exception in &model.exceptions {
            self.rule_name(&exception.rule);
            let target = exception.target.as_str();
            if !target.starts_with("code:")
                && model.lookup(target).is_none()
                && !model.broken_ids.contains(target)
            {
                let ids: Vec<&str> = model.definitions().map(|(_, id, _)| id.as_str()).collect();
                let mut message = format!(
                    "exception target `{target}` is not an element id (nor `code:<glob>` for code \
                     findings)"
                );
                if let Some(best) = did_you_mean(target, ids) {
                    message.push_str(&format!("; did you mean `{best}`?"));
                }
                self.push(Problem::DanglingReference, exception.target.loc, message);
            }
        }
    }
}

/// A code rule id from the code catalogue (`TL101`), which exceptions may target with `code:`.
fn is_code_rule(key: &str) -> bool {
    threatlens_rules::Catalogue::builtin().rule(key).is_some()
}

fn suggest_id(id: &str) -> String {
    let mut out = String::new();
    for c in id.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "my-component".to_owned()
    } else {
        out
    }
}

/// Validate a merged model.
pub fn validate(model: &Model) -> Vec<Diag> {
    let mut v = Validator {
        model,
        diags: Vec::new(),
    };
    v.ids();
    v.references();
    v.controls();
    v.rest();
    v.diags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owasp_ids_need_their_year() {
        assert!(check_owasp("LLM01:2025", Some(OwaspList::Llm)).is_ok());
        assert!(check_owasp("LLM10:2026", None).is_ok());
        assert!(check_owasp("ML06:2023", Some(OwaspList::Ml)).is_ok());
        let e = check_owasp("LLM01", Some(OwaspList::Llm)).unwrap_err();
        assert!(e.contains("LLM01:2025"), "{e}");
        let e = check_owasp("ML06", None).unwrap_err();
        assert!(e.contains("ML06:2023"), "{e}");
        assert!(check_owasp("LLM11:2025", None).is_err());
        assert!(check_owasp("LLM1:2025", None).is_err());
        assert!(check_owasp("LLM01:2024", None).is_err());
        assert!(
            check_owasp("ML06:2023", Some(OwaspList::Llm))
                .unwrap_err()
                .contains("owasp_ml")
        );
        assert!(check_owasp("A01:2021", None).is_err());
    }

    #[test]
    fn atlas_syntax() {
        assert!(atlas_syntax_ok("AML.T0051"));
        assert!(atlas_syntax_ok("AML.T0051.000"));
        for bad in [
            "AML.T51",
            "AML.T0051.0",
            "aml.t0051",
            "AML.T0051.000.1",
            "T0051",
            "AML.TA0001",
        ] {
            assert!(!atlas_syntax_ok(bad), "{bad}");
        }
    }

    #[test]
    fn id_syntax() {
        assert!(id_syntax_ok("chat-api"));
        assert!(id_syntax_ok("T-01"));
        for bad in ["", "-x", "chat api", "chat_api", "a/b", "é"] {
            assert!(!id_syntax_ok(bad), "{bad}");
        }
        assert_eq!(suggest_id("Chat API_v2"), "chat-api-v2");
    }
}

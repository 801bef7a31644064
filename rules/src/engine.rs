//! The rule engine: evaluates catalogue rules on the events the language front-ends produce
//! (calls, assignments, string constants) and turns matches into findings with fixes.

use crate::catalogue::{
    ArgSpec, Catalogue, FixDef, Is, Language, Predicate, Rule, SecretMatcher, TaintMode,
};
use crate::finding::{Edit, Finding, Fix, Related, Severity};
use crate::qname::Pattern;
use crate::source::LineIndex;
use crate::value::{Arg, AssignEvent, CallEvent, Const, Range, Shape, Sym, Taint};
use std::collections::HashSet;
use std::rc::Rc;

/// Where a Python file can take a new `import` line, and which modules it already binds.
#[derive(Debug, Clone, Default)]
pub struct ImportContext {
    pub bound: HashSet<String>,
    pub insert_at: usize,
}

/// The module the secret fix reads the environment from.
const ENVIRONMENT_MODULE: &str = "os";

impl ImportContext {
    /// Whether each module a fix can import is bound under both or under neither (a fix imports
    /// it where it is not).
    pub fn binds_what_fixes_import(&self, other: &ImportContext, catalogue: &Catalogue) -> bool {
        let fix_imports = catalogue
            .rules
            .iter()
            .filter_map(|rule| match &rule.fix {
                Some(FixDef::WrapSubject { import, .. }) => import.as_deref(),
                _ => None,
            })
            .chain([ENVIRONMENT_MODULE]);
        fix_imports
            .into_iter()
            .all(|module| self.bound.contains(module) == other.bound.contains(module))
    }
}

/// Collects the findings of one analysed text.
pub struct Emitter<'a> {
    pub catalogue: &'a Catalogue,
    pub text: &'a str,
    pub lines: &'a LineIndex,
    pub language: Language,
    pub imports: ImportContext,
    pub findings: Vec<Finding>,
    /// How each of `findings` came about, in the same order.
    pub provenance: Vec<Provenance>,
    /// Who is emitting now (a front-end's unit of re-analysis, e.g. a function), recorded in
    /// each finding's [`Provenance`].
    pub owner: u32,
    /// Owners that reported the same finding (rule and range) as another owner: which of them
    /// reports it depends on the order of the walk.
    pub shared: Vec<u32>,
    /// The owner of each finding reported so far, by rule and range.
    seen: std::collections::HashMap<(usize, usize, usize), u32>,
}

/// What a finding's text is made of beyond its position, so that it can be rendered again at
/// new positions after an edit elsewhere (see [`render_again`]).
#[derive(Debug, Clone)]
pub struct Provenance {
    pub owner: u32,
    /// The untrusted value the finding mentions (its line is part of the message).
    pub taint: Option<Taint>,
    /// The length of the message before the note about `taint`.
    pub message_len: usize,
}

/// The sentence a finding's message ends with when the value comes from an untrusted source.
fn taint_note(taint: &Taint, line: u32) -> String {
    format!(
        " The value comes from {} (line {line}).",
        taint.kind.describe()
    )
}

/// Renders a finding again in `text` after its byte offsets (and those of its related places
/// and fix) have moved: lines, columns and the message's line reference follow the bytes.
pub fn render_again(finding: &mut Finding, provenance: &Provenance, text: &str, lines: &LineIndex) {
    let respan = |span: &mut crate::finding::Span| {
        *span = lines.span(text, span.start_byte, span.end_byte);
    };
    respan(&mut finding.span);
    // The code under the finding may hold the edit (a comment inside a multi-line call).
    let code = text
        .get(finding.span.start_byte..finding.span.end_byte)
        .unwrap_or_default();
    finding.fingerprint = crate::finding::fingerprint(&finding.rule, code);
    for related in &mut finding.related {
        respan(&mut related.span);
    }
    if let Some(fix) = &mut finding.fix {
        for edit in &mut fix.edits {
            respan(&mut edit.span);
        }
    }
    if let Some(taint) = &provenance.taint {
        let line = lines.position(text, taint.range.0).line;
        finding.message.truncate(provenance.message_len);
        finding.message.push_str(&taint_note(taint, line));
    }
}

impl<'a> Emitter<'a> {
    pub fn new(
        catalogue: &'a Catalogue,
        text: &'a str,
        lines: &'a LineIndex,
        language: Language,
    ) -> Self {
        Self {
            catalogue,
            text,
            lines,
            language,
            imports: ImportContext::default(),
            findings: Vec::new(),
            provenance: Vec::new(),
            owner: u32::MAX,
            shared: Vec::new(),
            seen: std::collections::HashMap::new(),
        }
    }

    fn slice(&self, range: Range) -> &'a str {
        self.text.get(range.0..range.1).unwrap_or("")
    }

    /// Evaluates every call rule whose callee pattern matches `event`.
    pub fn on_call(&mut self, event: &CallEvent) {
        let Some(index) = self.catalogue.calls.get(&self.language) else {
            return;
        };
        let candidates: Vec<usize> = index.matching(event.qname).copied().collect();
        for rule_index in candidates {
            self.check_call(rule_index, event);
        }
    }

    fn check_call(&mut self, rule_index: usize, event: &CallEvent) {
        let rule = &self.catalogue.rules[rule_index];
        let compiled = &self.catalogue.compiled[rule_index];
        let subject = rule
            .matcher
            .subject
            .as_ref()
            .and_then(|spec| find_arg(event, spec));
        let message;
        let subject = if rule.matcher.subject_roles.is_empty() {
            subject
        } else {
            let Some(found) = subject.and_then(|list| message_content(rule, list)) else {
                return;
            };
            message = found;
            Some(&message)
        };
        let holds = |p: &Predicate| predicate_holds(p, event, subject, rule);
        let opted_out = compiled.opt_out.iter().any(holds);
        let overridden = opted_out && rule.matcher.opt_out_overrides_unless;
        if !compiled.when.iter().all(holds) || (!overridden && compiled.unless.iter().any(holds)) {
            return;
        }
        if rule.matcher.skip_constant_subject && subject.is_some_and(|arg| arg.sym.konst.is_some())
        {
            return;
        }
        // A sanitised value is as safe as a constant where constants are safe (injection sinks).
        let constants_safe =
            rule.matcher.skip_constant_subject || rule.matcher.taint == TaintMode::Required;
        if constants_safe && subject.is_some_and(|arg| arg.sym.sanitised) {
            return;
        }
        let taint = match subject {
            Some(arg) => relevant_taint(rule, &arg.sym),
            // No subject (or it is not passed): any tainted argument or receiver counts.
            None => event
                .args
                .iter()
                .find_map(|arg| relevant_taint(rule, &arg.sym))
                .or_else(|| {
                    let receiver = event.callee_taint.as_deref()?;
                    (rule.matcher.taint != TaintMode::Ignored
                        && (rule.matcher.taint_kinds.is_empty()
                            || rule.matcher.taint_kinds.contains(&receiver.kind)))
                    .then_some(receiver)
                }),
        };
        if rule.matcher.taint == TaintMode::Required && taint.is_none() {
            return;
        }
        let fix = rule
            .fix
            .as_ref()
            .and_then(|fix| self.build_fix(fix, event, subject));
        let callee = self.slice(event.callee);
        let before = self.findings.len();
        self.push(rule_index, event.range, callee, taint, opted_out, fix);
        if let (Some(finding), Some(value)) = (
            self.findings.get_mut(before),
            subject.and_then(|arg| arg.sym.str_value()),
        ) {
            finding.subject_value = Some(value.to_string());
        }
    }

    /// Evaluates every assignment rule whose target pattern matches `event`.
    pub fn on_assign(&mut self, event: &AssignEvent) {
        let candidates: Vec<usize> = self
            .catalogue
            .assigns
            .matching(&event.target)
            .copied()
            .collect();
        let target = self.slice((event.range.0, event.value_range.0));
        let target = target.trim_end().trim_end_matches('=').trim_end();
        for rule_index in candidates {
            self.check_value(rule_index, &event.value, event.range, target);
        }
    }

    /// Evaluates return rules for a value returned from a function with `decorators`.
    pub fn on_return(&mut self, decorators: &[Rc<str>], value: &Sym, range: Range) {
        let mut candidates: Vec<usize> = decorators
            .iter()
            .flat_map(|d| {
                let factory = d.strip_suffix("()").unwrap_or(d);
                self.catalogue.returns.matching(factory)
            })
            .copied()
            .collect();
        candidates.dedup();
        for rule_index in candidates {
            self.check_value(rule_index, value, range, "return");
        }
    }

    /// A rule on a value (assigned or returned): predicates apply to the value itself.
    fn check_value(&mut self, rule_index: usize, value: &Sym, range: Range, what: &str) {
        let rule = &self.catalogue.rules[rule_index];
        if !rule.applies_to(self.language) {
            return;
        }
        let compiled = &self.catalogue.compiled[rule_index];
        let holds = |p: &Predicate| assigned_holds(p, value, rule);
        if !compiled.when.iter().all(holds) || compiled.unless.iter().any(holds) {
            return;
        }
        if rule.matcher.skip_constant_subject && value.konst.is_some() {
            return;
        }
        let taint = relevant_taint(rule, value);
        if rule.matcher.taint == TaintMode::Required && taint.is_none() {
            return;
        }
        let opted_out = compiled.opt_out.iter().any(holds);
        self.push(rule_index, range, what, taint, opted_out, None);
    }

    /// Checks a string constant for secrets. `name` is the credential-like name it is bound to
    /// (keyword argument, assignment target, dict key), when there is one.
    pub fn on_string(&mut self, value: &str, range: Range, name: Option<&str>) {
        if let Some((rule_index, env)) = secret_in(self.catalogue, value, name) {
            let fix = self.secret_fix(rule_index, range, env.as_deref());
            self.push(rule_index, range, "", None, false, fix);
        }
    }

    /// Reports provider tokens anywhere in `text` (text that is not code, such as notebook shell
    /// lines `!export HF_TOKEN=hf_…` and `%env` magics), at `base` in the analysed text.
    pub fn on_tokens(&mut self, text: &str, base: usize) {
        let anchored = self.catalogue.secret_anchors.candidates(text);
        for secret_index in 0..self.catalogue.secrets.len() {
            let secret = &self.catalogue.secrets[secret_index];
            if anchored & (1 << secret_index) == 0 {
                continue;
            }
            let found: Vec<(usize, usize)> = secret
                .tokens_in(text)
                .filter_map(|token| token_match(token, text))
                .map(|m| (base + m.start(), base + m.end()))
                .collect();
            let rule_index = secret.rule;
            for range in found {
                self.push(rule_index, range, "", None, false, None);
            }
        }
    }

    fn push(
        &mut self,
        rule_index: usize,
        range: Range,
        callee: &str,
        taint: Option<&Taint>,
        opted_out: bool,
        fix: Option<Fix>,
    ) {
        match self.seen.entry((rule_index, range.0, range.1)) {
            std::collections::hash_map::Entry::Occupied(first) => {
                if *first.get() != self.owner {
                    self.shared.extend([*first.get(), self.owner]);
                }
                return;
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(self.owner);
            }
        }
        let rule = &self.catalogue.rules[rule_index];
        let mut severity = rule.severity;
        if opted_out {
            severity = severity.max(rule.opt_out_severity());
        }
        let mut message = render_message(&rule.message, callee);
        let message_len = message.len();
        let mut related = Vec::new();
        if let Some(taint) = taint {
            severity = severity.max(rule.tainted_severity());
            let span = self.lines.span(self.text, taint.range.0, taint.range.1);
            message.push_str(&taint_note(taint, span.start.line));
            related.push(Related {
                span,
                message: format!("untrusted value: {}", taint.kind.describe()),
            });
        }
        let mut finding = Finding::new(
            &rule.id,
            &rule.slug,
            rule.category,
            severity,
            self.lines.span(self.text, range.0, range.1),
            message,
            self.slice(range),
        );
        finding.fix = fix;
        finding.related = related;
        self.findings.push(finding);
        self.provenance.push(Provenance {
            owner: self.owner,
            taint: taint.cloned(),
            message_len,
        });
    }

    /// Reports a rule match found by a tree-sitter query (the odd shapes).
    pub fn on_query_match(&mut self, rule_index: usize, range: Range, severity: Option<Severity>) {
        let before = self.findings.len();
        self.push(rule_index, range, "", None, false, None);
        if let (Some(severity), Some(finding)) = (severity, self.findings.get_mut(before)) {
            finding.severity = finding.severity.max(severity);
        }
    }

    fn edit(&self, range: Range, new_text: impl Into<String>) -> Edit {
        Edit {
            span: self.lines.span(self.text, range.0, range.1),
            new_text: new_text.into(),
        }
    }

    fn import_edit(&self, module: &str) -> Option<Edit> {
        (!self.imports.bound.contains(module)).then(|| {
            let at = self.imports.insert_at;
            self.edit((at, at), format!("import {module}\n"))
        })
    }

    fn build_fix(&self, def: &FixDef, event: &CallEvent, subject: Option<&Arg>) -> Option<Fix> {
        let edits = match def {
            FixDef::SetKeyword {
                keyword,
                value,
                position,
                unless_present,
                replace_only,
                ..
            } => {
                if event.args.iter().any(|a| {
                    a.keyword
                        .as_deref()
                        .is_some_and(|k| unless_present.iter().any(|u| u == k))
                }) {
                    return None;
                }
                let spec = ArgSpec {
                    keyword: Some(keyword.clone()),
                    position: *position,
                };
                match find_arg(event, &spec) {
                    Some(arg) if arg.in_call => vec![self.edit(arg.value, value.as_str())],
                    Some(_) => return None,
                    None if event.star_kwargs || *replace_only => return None,
                    None => vec![self.insert_keyword(event, &format!("{keyword}={value}"))?],
                }
            }
            FixDef::RemoveKeyword { keyword, .. } => {
                let arg = event
                    .args
                    .iter()
                    .find(|a| a.in_call && a.keyword.as_deref() == Some(keyword.as_str()))?;
                vec![self.edit(self.removal_range(arg.whole), "")]
            }
            FixDef::RenameCallee { map, .. } => {
                let name = event.callee_name?;
                // Only `module.function(...)`: a bare imported name would also need its import changed.
                if name.0 <= event.callee.0 {
                    return None;
                }
                let to = map.get(self.slice(name))?;
                vec![self.edit(name, to.as_str())]
            }
            FixDef::RenameArgument {
                keyword,
                position,
                map,
                ..
            } => {
                let spec = ArgSpec {
                    keyword: keyword.clone(),
                    position: *position,
                };
                let arg = find_arg(event, &spec).filter(|a| a.in_call)?;
                let text = self.slice(arg.value);
                let last_start = text.rfind('.').map_or(0, |dot| dot + 1);
                let replacement = map.get(text[last_start..].trim())?;
                vec![self.edit(
                    (arg.value.0 + last_start, arg.value.1),
                    replacement.as_str(),
                )]
            }
            FixDef::UpgradeToHttps {
                keyword, position, ..
            } => {
                let spec = ArgSpec {
                    keyword: keyword.clone(),
                    position: *position,
                };
                let insecure = |arg: &&Arg| arg.sym.str_value().is_some_and(is_insecure_url);
                let literal = find_arg(event, &spec)
                    .filter(insecure)
                    .or_else(|| event.args.iter().find(insecure))?
                    .sym
                    .literal?;
                let text = self.slice(literal);
                let at = text.to_ascii_lowercase().find("http://")?;
                let start = literal.0 + at;
                vec![self.edit((start, start + "http://".len()), "https://")]
            }
            FixDef::WrapSubject {
                function, import, ..
            } => {
                let arg = subject.filter(|a| a.in_call)?;
                // Escaping a whole f-string or concatenation would escape its markup too.
                let text = self.slice(arg.value);
                if !is_plain_expression(text) {
                    return None;
                }
                let mut edits =
                    vec![self.edit(arg.value, format!("{function}({})", self.slice(arg.value)))];
                edits.extend(import.as_deref().and_then(|m| self.import_edit(m)));
                edits
            }
            FixDef::SecretToEnv { .. } => return None,
        };
        Some(Fix {
            title: def.title().to_string(),
            edits,
        })
    }

    fn secret_fix(&self, rule_index: usize, range: Range, env: Option<&str>) -> Option<Fix> {
        let def = self.catalogue.rules[rule_index].fix.as_ref()?;
        if self.language != Language::Python || !matches!(def, FixDef::SecretToEnv { .. }) {
            return None;
        }
        let env = env?;
        let mut edits = vec![self.edit(range, format!("{ENVIRONMENT_MODULE}.environ[\"{env}\"]"))];
        edits.extend(self.import_edit(ENVIRONMENT_MODULE));
        Some(Fix {
            title: def.title().replace("{env}", env),
            edits,
        })
    }

    /// Inserts `text` as a new last argument of the call.
    fn insert_keyword(&self, event: &CallEvent, text: &str) -> Option<Edit> {
        let (open, _close) = event.parens?;
        let last = event
            .args
            .iter()
            .filter(|a| a.in_call)
            .map(|a| a.whole.1)
            .max();
        Some(match last {
            Some(end) => self.edit((end, end), format!(", {text}")),
            None => self.edit((open, open), text),
        })
    }

    /// The range that deletes an argument together with one separating comma.
    fn removal_range(&self, whole: Range) -> Range {
        let bytes = self.text.as_bytes();
        let mut before = whole.0;
        while before > 0 && bytes[before - 1].is_ascii_whitespace() {
            before -= 1;
        }
        if before > 0 && bytes[before - 1] == b',' {
            return (before - 1, whole.1);
        }
        let mut after = whole.1;
        while after < bytes.len() && bytes[after].is_ascii_whitespace() {
            after += 1;
        }
        if after < bytes.len() && bytes[after] == b',' {
            after += 1;
            while after < bytes.len() && matches!(bytes[after], b' ' | b'\t') {
                after += 1;
            }
            return (whole.0, after);
        }
        whole
    }
}

/// A name, attribute chain, subscript or call: wrapping it escapes exactly the value (an
/// f-string or concatenation would have its own markup escaped too).
fn is_plain_expression(text: &str) -> bool {
    let text = text.trim();
    let prefix = text.chars().take_while(|c| c.is_ascii_alphabetic()).count();
    let starts_string = text[prefix..].starts_with(['"', '\'']) && prefix <= 2;
    let first = text.chars().next();
    first.is_some_and(|c| c.is_alphabetic() || c == '_') && !starts_string && !text.contains(" + ")
}

fn render_message(template: &str, callee: &str) -> String {
    let callee = if callee.chars().count() > 60 {
        let short: String = callee.chars().take(57).collect();
        format!("{short}...")
    } else {
        callee.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    template.trim().replace("{callee}", &callee)
}

fn relevant_taint<'s>(rule: &Rule, sym: &'s Sym) -> Option<&'s Taint> {
    if rule.matcher.taint == TaintMode::Ignored {
        return None;
    }
    let taint = sym.taint.as_deref()?;
    (rule.matcher.taint_kinds.is_empty() || rule.matcher.taint_kinds.contains(&taint.kind))
        .then_some(taint)
}

/// The content of the chat message in `list` whose role is one of the rule's `subject_roles`
/// (a tainted one first), as an argument in place of the list.
fn message_content(rule: &Rule, list: &Arg) -> Option<Arg> {
    let Shape::Seq(messages) = &list.sym.shape else {
        return None;
    };
    fn role_and_content(message: &Sym) -> Option<(Option<&str>, Sym)> {
        match &message.shape {
            Shape::Dict(entries) => {
                let entry = |key: &str| entries.iter().find(|(k, _)| k.as_ref() == key);
                let role = entry("role")?.1.str_value();
                Some((role, entry("content").map(|(_, v)| v.clone())?))
            }
            Shape::Seq(pair) if pair.len() == 2 => Some((pair[0].str_value(), pair[1].clone())),
            _ => None,
        }
    }
    let contents: Vec<Sym> = messages
        .iter()
        .filter_map(role_and_content)
        .filter(|(role, _)| {
            role.is_some_and(|role| rule.matcher.subject_roles.iter().any(|r| r == role))
        })
        .map(|(_, content)| content)
        .collect();
    let content = contents
        .iter()
        .find(|content| relevant_taint(rule, content).is_some())
        .or(contents.first())?;
    Some(Arg {
        sym: content.clone(),
        ..list.clone()
    })
}

/// The argument `spec` names in a call: by keyword first, then by position.
pub fn find_arg<'e>(event: &'e CallEvent, spec: &ArgSpec) -> Option<&'e Arg> {
    find_arg_in(event.args, spec)
}

/// The argument `spec` names: by keyword first, then by position among positional arguments.
pub fn find_arg_in<'a>(args: &'a [Arg], spec: &ArgSpec) -> Option<&'a Arg> {
    if let Some(keyword) = &spec.keyword
        && let Some(arg) = args
            .iter()
            .find(|a| a.keyword.as_deref() == Some(keyword.as_str()))
    {
        return Some(arg);
    }
    let position = spec.position?;
    let mut positional = args.iter().filter(|a| a.keyword.is_none());
    positional.nth(position)
}

fn predicate_holds(
    predicate: &Predicate,
    event: &CallEvent,
    subject: Option<&Arg>,
    rule: &Rule,
) -> bool {
    if !predicate.callee.is_empty() && !Pattern::any_matches(&predicate.callee, event.qname) {
        return false;
    }
    if !predicate.any.is_empty()
        && !predicate
            .any
            .iter()
            .any(|p| predicate_holds(p, event, subject, rule))
    {
        return false;
    }
    if !predicate
        .all
        .iter()
        .all(|p| predicate_holds(p, event, subject, rule))
    {
        return false;
    }
    let (arg, unknown) = match &predicate.arg {
        Some(spec) => {
            let arg = find_arg(event, spec);
            // Without the argument, a `*args`/`**kwargs` we could not expand might hold it.
            let unknown = arg.is_none()
                && (event.star_kwargs || (spec.position.is_some() && event.star_args));
            (arg, unknown)
        }
        None => (subject, false),
    };
    if predicate.arg.is_none() && !predicate.tests_value() {
        // Only `callee`/`any`, both checked above.
        return true;
    }
    let sym = arg.map(|a| &a.sym);
    match &predicate.key {
        Some(key) => value_holds(predicate, dict_entry(sym, key), false, rule),
        None => value_holds(predicate, sym, unknown, rule),
    }
}

/// The value under `key` of a dict (`None` when it is not a dict or has no such key).
fn dict_entry<'s>(sym: Option<&'s Sym>, key: &str) -> Option<&'s Sym> {
    match &sym?.shape {
        Shape::Dict(entries) => entries
            .iter()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v),
        _ => None,
    }
}

/// Evaluates a predicate on an assigned value.
fn assigned_holds(predicate: &Predicate, value: &Sym, rule: &Rule) -> bool {
    if !predicate.any.is_empty() && !predicate.any.iter().any(|p| assigned_holds(p, value, rule)) {
        return false;
    }
    if !predicate.all.iter().all(|p| assigned_holds(p, value, rule)) {
        return false;
    }
    !predicate.tests_value() || value_holds(predicate, Some(value), false, rule)
}

/// Evaluates a predicate on a value (`None`: the argument is not there). `unknown` says the value
/// might be there without us seeing it; then neither `present` nor `absent` holds.
fn value_holds(predicate: &Predicate, sym: Option<&Sym>, unknown: bool, rule: &Rule) -> bool {
    if let Some(is) = predicate.is {
        let holds = match (is, sym) {
            (Is::Absent, None) => !unknown,
            (Is::Absent, Some(_)) => false,
            (_, None) => false,
            (Is::Present, Some(_)) => true,
            (Is::True, Some(s)) => s.konst == Some(Const::Bool(true)),
            (Is::False, Some(s)) => s.konst == Some(Const::Bool(false)),
            (Is::Constant, Some(s)) => s.konst.is_some(),
            (Is::NonConstant, Some(s)) => s.konst.is_none(),
            (Is::EmptyString, Some(s)) => s.str_value() == Some(""),
            (Is::HubRepoId, Some(s)) => s.str_value().is_some_and(is_hub_repo_id),
            (Is::PinnedRevision, Some(s)) => s.str_value().is_some_and(is_commit_hash),
            (Is::InsecureUrl, Some(s)) => s.text().is_some_and(is_insecure_url),
            (Is::SharedPath, Some(s)) => s.text().is_some_and(is_shared_path),
            (Is::StateDict, Some(s)) => is_state_dict_like(s),
            (Is::AllInterfaces, Some(s)) => binds_all_interfaces(s),
            (Is::Tainted, Some(s)) => relevant_taint(rule, s).is_some(),
        };
        if !holds {
            return false;
        }
    }
    if !predicate.resolves_to.is_empty() {
        let Some(qname) = sym.and_then(Sym::qname) else {
            return false;
        };
        if !Pattern::any_matches(&predicate.resolves_to, qname) {
            return false;
        }
    }
    if let Some(regex) = &predicate.matches {
        let text = sym.and_then(|s| match &s.konst {
            Some(Const::Str(s)) => Some(s.to_string()),
            Some(Const::Tuple(items)) => match items.first() {
                Some(Const::Str(s)) => Some(s.to_string()),
                _ => None,
            },
            _ => s.template.as_deref().map(str::to_string),
        });
        if !text.is_some_and(|t| regex.get().is_some_and(|regex| regex.is_match(&t))) {
            return false;
        }
    }
    if let Some(key) = &predicate.has_key {
        let has = sym.is_some_and(|s| match &s.shape {
            Shape::Dict(entries) => entries.iter().any(|(k, _)| k.as_ref() == key),
            _ => false,
        });
        if !has {
            return false;
        }
    }
    if !predicate.tests_value() {
        return sym.is_some();
    }
    true
}

/// `org/name` or a legacy single-name id (`gpt2`), not a local or remote path.
pub fn is_hub_repo_id(s: &str) -> bool {
    const FILE_SUFFIXES: &[&str] = &[
        ".json",
        ".bin",
        ".pt",
        ".pth",
        ".safetensors",
        ".yaml",
        ".yml",
        ".txt",
        ".csv",
        ".tsv",
        ".parquet",
        ".arrow",
        ".jsonl",
        ".pkl",
        ".ckpt",
        ".gguf",
        ".onnx",
        ".h5",
        ".zip",
        ".gz",
        ".tar",
        ".py",
        ".model",
    ];
    if s.is_empty() || s.len() > 96 || s.starts_with(['.', '/', '~', '-']) || s.contains("://") {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if FILE_SUFFIXES.iter().any(|suffix| lower.ends_with(suffix)) {
        return false;
    }
    let parts: Vec<&str> = s.split('/').collect();
    parts.len() <= 2
        && parts.iter().all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric())
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
}

pub fn is_commit_hash(s: &str) -> bool {
    (7..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `http://` to anything but loopback.
pub fn is_insecure_url(s: &str) -> bool {
    let lower = s.trim().to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host.starts_with("127.")
        || host == "::1"
        || host == "0.0.0.0";
    !host.is_empty() && !loopback
}

pub fn is_shared_path(s: &str) -> bool {
    const SHARED: &[&str] = &[
        "/mnt/",
        "/nfs/",
        "/shared/",
        "/share/",
        "/tmp/",
        "/var/tmp/",
        "/dev/shm/",
        "//",
        "\\\\",
    ];
    SHARED.iter().any(|prefix| s.starts_with(prefix))
}

fn is_state_dict(sym: &Sym) -> bool {
    // `model.state_dict()`, or tensors read back from safetensors.
    sym.qname().is_some_and(|q| {
        q.ends_with(".state_dict()")
            || matches!(
                q,
                "safetensors.torch.load_file()" | "safetensors.torch.load()"
            )
    })
}

fn is_state_dict_like(sym: &Sym) -> bool {
    if is_state_dict(sym) {
        return true;
    }
    let values: Vec<&Sym> = match &sym.shape {
        Shape::Dict(entries) => entries.iter().map(|(_, v)| v).collect(),
        Shape::Seq(items) => items.iter().collect(),
        _ => return false,
    };
    // At least one state dict, and nothing else that is an object built by a call.
    values.iter().any(|v| is_state_dict_like(v))
        && values.iter().all(|v| {
            is_state_dict_like(v)
                || v.konst.is_some()
                || !v
                    .qname()
                    .is_some_and(|q| q.ends_with("()") && !q.starts_with("builtins."))
        })
}

fn binds_all_interfaces(sym: &Sym) -> bool {
    let host = match &sym.konst {
        Some(Const::Str(s)) => s.to_string(),
        Some(Const::Tuple(items)) => match items.first() {
            Some(Const::Str(s)) => s.to_string(),
            _ => return false,
        },
        _ => return false,
    };
    let host = host
        .strip_prefix("tcp://")
        .map(|rest| rest.rsplit_once(':').map_or(rest, |(h, _)| h).to_string())
        .unwrap_or(host);
    matches!(host.as_str(), "0.0.0.0" | "::" | "" | "*" | "[::]")
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Obvious stand-ins that are not credentials.
fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "your",
        "example",
        "placeholder",
        "changeme",
        "dummy",
        "redacted",
        "xxxx",
        "****",
        "<",
        "${",
        "{{",
        "todo",
        "fake",
        "sample",
        "insert",
        "replace",
    ];
    WORDS.iter().any(|w| lower.contains(w)) || value.chars().collect::<HashSet<_>>().len() <= 4
}

/// The first real (not placeholder) occurrence of `token` in `value`.
fn token_match<'v>(token: &crate::catalogue::Token, value: &'v str) -> Option<regex::Match<'v>> {
    token
        .regex
        .get()?
        .captures_iter(value)
        .find_map(|captures| {
            let found = captures.get(0)?;
            let secret = captures.name("secret").unwrap_or(found);
            let random_enough = token
                .min_entropy
                .is_none_or(|min| entropy(secret.as_str()) >= min);
            (random_enough && !is_placeholder(found.as_str()) && !is_placeholder(secret.as_str()))
                .then_some(found)
        })
}

/// When `value` is a secret for `secret`, the environment variable a fix should read instead.
/// `tokens_possible`: the string holds one of the rule's anchors (see
/// [`crate::catalogue::SecretAnchors`]).
/// The rule of the first secret that `value` (a string bound to `name`, if it is) is, and the
/// environment variable its fix reads it from.
fn secret_in(
    catalogue: &Catalogue,
    value: &str,
    name: Option<&str>,
) -> Option<(usize, Option<String>)> {
    if value.len() < 8 {
        return None;
    }
    let anchored = catalogue.secret_anchors.candidates(value);
    catalogue
        .secrets
        .iter()
        .enumerate()
        .find_map(|(index, secret)| {
            let tokens_possible = anchored & (1 << index) != 0;
            secret_match(secret, value, name, tokens_possible).map(|env| (secret.rule, env))
        })
}

/// Whether a string bound to `name` is reported as a secret.
pub fn is_a_named_secret(catalogue: &Catalogue, value: &str, name: &str) -> bool {
    secret_in(catalogue, value, Some(name)).is_some()
}

fn secret_match(
    secret: &SecretMatcher,
    value: &str,
    name: Option<&str>,
    tokens_possible: bool,
) -> Option<Option<String>> {
    let tokens = tokens_possible.then(|| secret.tokens_in(value));
    for token in tokens.into_iter().flatten() {
        if let Some(found) = token_match(token, value) {
            // The whole literal must be the token (an assignment of the key), not prose around it.
            let whole = found.start() == 0 && found.end() == value.len();
            return Some(whole.then(|| token.env.clone()).flatten());
        }
    }
    let name = name?;
    if secret
        .names
        .as_ref()
        .and_then(crate::catalogue::LazyRegex::get)
        .is_some_and(|names| names.is_match(name))
        && value.len() >= secret.min_length
        && !value.contains(char::is_whitespace)
        && entropy(value) >= secret.min_entropy
        && !is_placeholder(value)
        && !value.starts_with(['/', '.', '$'])
        && !value.contains("://")
    {
        // Without a configured variable, the name says it: `api_key` → `API_KEY`.
        let derived: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        return Some(Some(secret.env.clone().unwrap_or(derived)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_ids_and_paths() {
        assert!(is_hub_repo_id("meta-llama/Llama-2-7b-hf"));
        assert!(is_hub_repo_id("gpt2"));
        assert!(!is_hub_repo_id("./checkpoints/best"));
        assert!(!is_hub_repo_id("/models/bert"));
        assert!(!is_hub_repo_id("a/b/c"));
        assert!(!is_hub_repo_id("data/train.csv"));
        assert!(!is_hub_repo_id("https://huggingface.co/gpt2"));
    }

    #[test]
    fn urls() {
        assert!(is_insecure_url("http://models.example.com/x.bin"));
        assert!(is_insecure_url("HTTP://10.0.0.5:8000/v1"));
        assert!(!is_insecure_url("https://models.example.com/x.bin"));
        assert!(!is_insecure_url("http://localhost:8000/v1"));
        assert!(!is_insecure_url("http://127.0.0.1:11434"));
        assert!(!is_insecure_url("http://[::1]:80/"));
    }

    #[test]
    fn revisions() {
        assert!(is_commit_hash("e0b3293"));
        assert!(is_commit_hash("a9f0e3c4b1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6"));
        assert!(!is_commit_hash("main"));
        assert!(!is_commit_hash("v1.0.0"));
    }

    #[test]
    fn entropy_separates_keys_from_words() {
        assert!(entropy("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLE") > 4.0);
        assert!(entropy("aaaaaaaaaaaaaaaa") < 1.0);
    }
}

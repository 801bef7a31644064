//! Report formats: text (one line per finding), JSON (a documented, stable schema) and
//! SARIF 2.1.0 (for GitHub code scanning and other CI dashboards).

use serde::Serialize;
use serde_json::json;
use serde_sarif::sarif;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use threatlens_rules::{Catalogue, FileReport, Finding, References, RuleDoc, ScanResult, Severity};

/// One file of a report: a scanned source file or a file of the threat model.
#[derive(Clone, Copy)]
pub struct ReportFile<'a> {
    pub path: &'a Path,
    pub findings: &'a [Finding],
    pub errors: &'a [String],
}

impl<'a> From<&'a FileReport> for ReportFile<'a> {
    fn from(file: &'a FileReport) -> Self {
        Self {
            path: &file.path,
            findings: &file.findings,
            errors: &file.errors,
        }
    }
}

/// Everything a report shows: the scanned files (code, then threat-model files) and the rules
/// it knows (code rules `TL…` from the catalogue, threat-model rules `TM…`).
pub struct Report<'a> {
    pub files: Vec<ReportFile<'a>>,
    pub path_errors: &'a [String],
    catalogue: &'a Catalogue,
    model_docs: &'a [RuleDoc],
}

impl<'a> Report<'a> {
    /// `model_docs`: the threat-model rules the report knows besides the catalogue's.
    pub fn new(
        catalogue: &'a Catalogue,
        result: &'a ScanResult,
        model_docs: &'a [RuleDoc],
    ) -> Self {
        Self {
            files: result.files.iter().map(ReportFile::from).collect(),
            path_errors: &result.errors,
            catalogue,
            model_docs,
        }
    }

    /// The documentation of every rule, by id. Made when asked for: only SARIF lists them all,
    /// and copying every rule's texts cost a one-file check 8% of its instructions.
    pub fn docs(&self) -> BTreeMap<String, RuleDoc> {
        self.catalogue
            .rules
            .iter()
            .map(|rule| (rule.id.clone(), rule.doc()))
            .chain(
                self.model_docs
                    .iter()
                    .map(|doc| (doc.id.clone(), doc.clone())),
            )
            .collect()
    }

    /// The framework references of one rule.
    fn references(&self, rule: &str) -> Option<&'a References> {
        match self.catalogue.rule(rule) {
            Some(rule) => Some(&rule.references),
            None => self
                .model_docs
                .iter()
                .find(|doc| doc.id == rule)
                .map(|doc| &doc.references),
        }
    }

    /// Adds files that were not scanned as code (the threat model's).
    pub fn add_files(&mut self, files: impl IntoIterator<Item = ReportFile<'a>>) {
        self.files.extend(files);
    }

    pub fn all(&self) -> impl Iterator<Item = (ReportFile<'a>, &'a Finding)> + '_ {
        self.files
            .iter()
            .flat_map(|file| file.findings.iter().map(move |f| (*file, f)))
    }

    pub fn active(&self) -> impl Iterator<Item = (ReportFile<'a>, &'a Finding)> + '_ {
        self.all().filter(|(_, f)| f.is_active())
    }

    fn suppressed(&self) -> impl Iterator<Item = (ReportFile<'a>, &'a Finding)> + '_ {
        self.all().filter(|(_, f)| !f.is_active())
    }

    /// One line per problem that kept part of the scan from happening.
    pub fn errors(&self) -> Vec<String> {
        self.path_errors
            .iter()
            .cloned()
            .chain(self.files.iter().flat_map(|file| file.errors()))
            .collect()
    }
}

impl ReportFile<'_> {
    /// One line per problem that kept part of the file from being analysed.
    pub fn errors(&self) -> impl Iterator<Item = String> + '_ {
        self.errors
            .iter()
            .map(|e| format!("{}: {e}", display_path(self.path)))
    }
}

/// Paths as users wrote them, with `/` separators on every platform.
pub fn display_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

// ----- text ---------------------------------------------------------------------------------

/// The text report, written as the files come: a line per active finding, then a summary line.
/// A write that fails (a reader that went away, a full disk) ends the output, not the scan.
pub struct TextReport<W: Write> {
    out: W,
    failed: Option<std::io::Error>,
    counts: BTreeMap<Severity, usize>,
    suppressed: usize,
    files: usize,
}

impl<W: Write> TextReport<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            failed: None,
            counts: BTreeMap::new(),
            suppressed: 0,
            files: 0,
        }
    }

    /// Writes the lines of one file's active findings.
    pub fn file(&mut self, file: ReportFile) {
        self.files += 1;
        let mut lines = String::new();
        for finding in file.findings {
            if !finding.is_active() {
                self.suppressed += 1;
                continue;
            }
            *self.counts.entry(finding.severity).or_default() += 1;
            let position = match finding.span.cell {
                // Cells are numbered from 1 for people (JSON keeps the 0-based index).
                Some(cell) => format!(
                    "cell {}:{}:{}",
                    cell + 1,
                    finding.span.start.line,
                    finding.span.start.column
                ),
                None => format!("{}:{}", finding.span.start.line, finding.span.start.column),
            };
            lines.push_str(&format!(
                "{}:{position}: {} [{}] {}\n",
                display_path(file.path),
                finding.rule,
                finding.severity,
                finding.message
            ));
        }
        if !lines.is_empty() {
            self.write(&lines);
        }
    }

    /// Writes the summary line; says if a write failed.
    pub fn finish(mut self) -> std::io::Result<()> {
        let total: usize = self.counts.values().sum();
        let files = self.files;
        let mut summary = if total == 0 {
            format!("No findings in {files} file{}.", plural(files))
        } else {
            let by_severity: Vec<String> = self
                .counts
                .iter()
                .rev()
                .map(|(severity, n)| format!("{n} {severity}"))
                .collect();
            format!(
                "Found {total} finding{} ({}) in {files} file{}.",
                plural(total),
                by_severity.join(", "),
                plural(files)
            )
        };
        if self.suppressed > 0 {
            summary.push_str(&format!(" {} suppressed.", self.suppressed));
        }
        summary.push('\n');
        self.write(&summary);
        self.failed.map_or(Ok(()), Err)
    }

    fn write(&mut self, text: &str) {
        if self.failed.is_none() {
            self.failed = self
                .out
                .write_all(text.as_bytes())
                .and_then(|()| self.out.flush())
                .err();
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

// ----- JSON ---------------------------------------------------------------------------------

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    suppressed: Vec<JsonFinding<'a>>,
    errors: Vec<String>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    slug: &'a str,
    category: &'a str,
    severity: Severity,
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cell: Option<usize>,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<JsonFix<'a>>,
    references: Option<&'a References>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonRelated<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    missing: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    threats: &'a [String],
}

#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cell: Option<usize>,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    new_text: &'a str,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cell: Option<usize>,
    line: u32,
    column: u32,
    message: &'a str,
}

fn json_finding<'a>(report: &'a Report, file: ReportFile, f: &'a Finding) -> JsonFinding<'a> {
    JsonFinding {
        rule: &f.rule,
        slug: &f.slug,
        category: f.category.as_str(),
        severity: f.severity,
        file: display_path(file.path),
        cell: f.span.cell,
        line: f.span.start.line,
        column: f.span.start.column,
        end_line: f.span.end.line,
        end_column: f.span.end.column,
        message: &f.message,
        fix: f.fix.as_ref().map(|fix| JsonFix {
            title: &fix.title,
            edits: fix
                .edits
                .iter()
                .map(|e| JsonEdit {
                    cell: e.span.cell,
                    line: e.span.start.line,
                    column: e.span.start.column,
                    end_line: e.span.end.line,
                    end_column: e.span.end.column,
                    new_text: &e.new_text,
                })
                .collect(),
        }),
        references: report.references(&f.rule),
        related: f
            .related
            .iter()
            .map(|r| JsonRelated {
                cell: r.span.cell,
                line: r.span.start.line,
                column: r.span.start.column,
                message: &r.message,
            })
            .collect(),
        suppression_reason: f.suppressed.as_ref().map(|s| s.reason.as_str()),
        target: f.target.as_deref(),
        missing: &f.missing,
        threats: &f.threats,
    }
}

pub fn json(report: &Report) -> String {
    let document = JsonReport {
        version: 1,
        findings: report
            .active()
            .map(|(file, f)| json_finding(report, file, f))
            .collect(),
        suppressed: report
            .suppressed()
            .map(|(file, f)| json_finding(report, file, f))
            .collect(),
        errors: report.errors(),
    };
    let mut text = serde_json::to_string_pretty(&document)
        .unwrap_or_else(|e| json!({"version": 1, "error": e.to_string()}).to_string());
    text.push('\n');
    text
}

// ----- SARIF --------------------------------------------------------------------------------

const SRCROOT: &str = "%SRCROOT%";

/// The directory SARIF URIs are relative to: the git work tree containing the current
/// directory, or the current directory.
fn source_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors()
        .find(|dir| dir.join(".git").exists())
        .map_or_else(|| cwd.clone(), Path::to_path_buf)
}

/// A relative URI for `path` under `root` (percent-encoding what URIs do not allow).
fn relative_uri(root: &Path, path: &Path) -> String {
    let absolute =
        lexically_normal(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
    let relative = absolute.strip_prefix(root).unwrap_or(&absolute);
    let text = display_path(relative);
    let mut uri = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(byte as char)
            }
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}

/// `a/b/../c` → `a/c`, without touching the file system (symlinks stay as written).
fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

fn file_uri(dir: &Path) -> String {
    let mut uri = format!("file://{}", relative_uri(Path::new(""), dir));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn level(severity: Severity) -> sarif::ResultLevel {
    match severity {
        Severity::Critical | Severity::High => sarif::ResultLevel::Error,
        Severity::Medium => sarif::ResultLevel::Warning,
        Severity::Low => sarif::ResultLevel::Note,
    }
}

fn references_markdown(references: &References) -> String {
    let mut lines = Vec::new();
    let mut add = |label: &str, ids: &[String]| {
        if !ids.is_empty() {
            lines.push(format!("- {label}: {}", ids.join(", ")));
        }
    };
    add("CWE", &references.cwe);
    add("ISO/IEC 27001:2022 Annex A", &references.iso27001);
    add("ISO/IEC 42001:2023 Annex A", &references.iso42001);
    add("MITRE ATLAS", &references.atlas);
    add("OWASP", &references.owasp);
    lines.join("\n")
}

fn rule_descriptor(doc: &RuleDoc) -> sarif::ReportingDescriptor {
    let mut tags = vec!["security".to_string(), doc.category.as_str().to_string()];
    tags.extend(
        doc.references
            .cwe
            .iter()
            .map(|cwe| format!("external/cwe/{}", cwe.to_ascii_lowercase())),
    );
    let mut properties = BTreeMap::new();
    properties.insert(
        "security-severity".to_string(),
        json!(security_severity(doc.severity)),
    );
    properties.insert("precision".to_string(), json!("high"));
    let references = references_markdown(&doc.references);
    let fix = doc
        .fix
        .as_ref()
        .map(|f| format!("\n\nQuick fix: {f}."))
        .unwrap_or_default();
    let help_text = format!(
        "{}\n\nHow to fix: {}{fix}\n\n{references}",
        doc.rationale, doc.mitigation
    );
    let help_markdown = format!(
        "## {}\n\n{}\n\n### How to fix\n\n{}{fix}\n\n### References\n\n{references}\n",
        doc.title, doc.rationale, doc.mitigation
    );
    sarif::ReportingDescriptor::builder()
        .id(doc.id.clone())
        .name(doc.slug.clone())
        .short_description(
            sarif::MultiformatMessageString::builder()
                .text(doc.title.clone())
                .build(),
        )
        .full_description(
            sarif::MultiformatMessageString::builder()
                .text(doc.rationale.clone())
                .build(),
        )
        .help(
            sarif::MultiformatMessageString::builder()
                .text(help_text)
                .markdown(help_markdown)
                .build(),
        )
        .default_configuration(
            sarif::ReportingConfiguration::builder()
                .level(json!(level(doc.severity)))
                .build(),
        )
        .properties(
            sarif::PropertyBag::builder()
                .tags(tags)
                .additional_properties(properties)
                .build(),
        )
        .build()
}

fn region(span: &threatlens_rules::Span) -> sarif::Region {
    sarif::Region::builder()
        .start_line(i64::from(span.start.line))
        .start_column(i64::from(span.start.column))
        .end_line(i64::from(span.end.line))
        .end_column(i64::from(span.end.column))
        .build()
}

fn location(uri: &str, span: &threatlens_rules::Span, message: Option<&str>) -> sarif::Location {
    let physical = sarif::PhysicalLocation::builder()
        .artifact_location(
            sarif::ArtifactLocation::builder()
                .uri(uri.to_string())
                .uri_base_id(SRCROOT.to_string())
                .build(),
        )
        .region(region(span))
        .build();
    match message {
        Some(text) => sarif::Location::builder()
            .physical_location(physical)
            .message(sarif::Message::builder().text(text.to_string()).build())
            .build(),
        None => sarif::Location::builder()
            .physical_location(physical)
            .build(),
    }
}

pub fn sarif(report: &Report) -> Result<String, String> {
    let root = source_root();
    let docs = report.docs();
    let rule_index: HashMap<&str, i64> = docs
        .keys()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i as i64))
        .collect();
    // Identical code in one file gets distinct fingerprints by occurrence.
    let mut occurrences: HashMap<(String, u64), usize> = HashMap::new();
    let mut results = Vec::new();
    for (file, finding) in report.all() {
        let uri = relative_uri(&root, file.path);
        let occurrence = occurrences
            .entry((uri.clone(), finding.fingerprint))
            .and_modify(|n| *n += 1)
            .or_insert(1);
        let mut fingerprints = BTreeMap::new();
        fingerprints.insert(
            "primaryLocationLineHash".to_string(),
            format!("{:016x}:{occurrence}", finding.fingerprint),
        );
        let mut message = finding.message.clone();
        if let Some(cell) = finding.span.cell {
            message = format!("(notebook cell {}) {message}", cell + 1);
        }
        let mut properties = BTreeMap::new();
        properties.insert("severity".to_string(), json!(finding.severity));
        properties.insert("category".to_string(), json!(finding.category));
        if let Some(cell) = finding.span.cell {
            properties.insert("cell".to_string(), json!(cell));
        }
        if let Some(target) = &finding.target {
            properties.insert("target".to_string(), json!(target));
        }
        if !finding.missing.is_empty() {
            properties.insert("missing".to_string(), json!(finding.missing));
        }
        if !finding.threats.is_empty() {
            properties.insert("threats".to_string(), json!(finding.threats));
        }
        let mut result = sarif::Result::builder()
            .rule_id(finding.rule.clone())
            .message(sarif::Message::builder().text(message).build())
            .level(level(finding.severity))
            .locations(vec![location(&uri, &finding.span, None)])
            .partial_fingerprints(fingerprints)
            .properties(
                sarif::PropertyBag::builder()
                    .additional_properties(properties)
                    .build(),
            )
            .build();
        result.rule_index = rule_index.get(finding.rule.as_str()).copied();
        if !finding.related.is_empty() {
            result.related_locations = Some(
                finding
                    .related
                    .iter()
                    .map(|r| location(&uri, &r.span, Some(&r.message)))
                    .collect(),
            );
        }
        if let Some(suppressed) = &finding.suppressed {
            result.suppressions = Some(vec![
                sarif::Suppression::builder()
                    .kind(json!("inSource"))
                    .justification(suppressed.reason.clone())
                    .build(),
            ]);
        }
        if let Some(fix) = &finding.fix
            && finding.span.cell.is_none()
        {
            let replacements: Vec<sarif::Replacement> = fix
                .edits
                .iter()
                .map(|edit| {
                    sarif::Replacement::builder()
                        .deleted_region(region(&edit.span))
                        .inserted_content(
                            sarif::ArtifactContent::builder()
                                .text(edit.new_text.clone())
                                .build(),
                        )
                        .build()
                })
                .collect();
            result.fixes = Some(vec![
                sarif::Fix::builder()
                    .description(sarif::Message::builder().text(fix.title.clone()).build())
                    .artifact_changes(vec![
                        sarif::ArtifactChange::builder()
                            .artifact_location(
                                sarif::ArtifactLocation::builder()
                                    .uri(uri.clone())
                                    .uri_base_id(SRCROOT.to_string())
                                    .build(),
                            )
                            .replacements(replacements)
                            .build(),
                    ])
                    .build(),
            ]);
        }
        results.push(result);
    }

    let notifications: Vec<sarif::Notification> = report
        .errors()
        .into_iter()
        .map(|error| {
            sarif::Notification::builder()
                .message(sarif::Message::builder().text(error).build())
                .level(json!("warning"))
                .build()
        })
        .collect();
    let mut base_ids = BTreeMap::new();
    base_ids.insert(
        SRCROOT.to_string(),
        sarif::ArtifactLocation::builder()
            .uri(file_uri(&root))
            .build(),
    );
    let driver = sarif::ToolComponent::builder()
        .name("threatlens")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://example.invalid/threatlens")
        .rules(docs.values().map(rule_descriptor).collect::<Vec<_>>())
        .build();
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .original_uri_base_ids(base_ids)
        .invocations(vec![
            sarif::Invocation::builder()
                .execution_successful(true)
                .tool_execution_notifications(notifications)
                .build(),
        ])
        .build();
    let log = sarif::Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut text = serde_json::to_string_pretty(&log).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

//! The catalogue test: every rule's `bad` examples fire, its `good` examples stay silent, and
//! its fix (when it has one) applied to a `bad` example makes the finding go away.

use threatlens_rules::catalogue::{Catalogue, Example, Language, Predicate};
use threatlens_rules::{Finding, analyse_source};

fn language(rule: &threatlens_rules::Rule, example: &Example) -> Language {
    // Artefact rules (builtin, no examples) have no language.
    example.language(rule.languages.first().copied().unwrap_or(Language::Python))
}

fn findings_of(catalogue: &Catalogue, language: Language, code: &str, rule: &str) -> Vec<Finding> {
    analyse_source(catalogue, language, code, &Default::default())
        .findings
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect()
}

/// Applies non-overlapping edits (from the last to the first).
fn apply(code: &str, finding: &Finding) -> String {
    let mut edits = finding
        .fix
        .as_ref()
        .map(|f| f.edits.clone())
        .unwrap_or_default();
    edits.sort_by_key(|e| std::cmp::Reverse(e.span.start_byte));
    let mut text = code.to_string();
    for edit in edits {
        text.replace_range(edit.span.start_byte..edit.span.end_byte, &edit.new_text);
    }
    text
}

#[test]
fn every_query_compiles() {
    let catalogue = Catalogue::builtin();
    assert!(!catalogue.queries.is_empty());
    for matcher in &catalogue.queries {
        let rule = &catalogue.rules[matcher.rule].id;
        assert!(
            matcher.query().is_ok(),
            "{rule}: {:?}",
            matcher.query().err()
        );
    }
}

/// Secret shapes compile on first use; every one must compile.
#[test]
fn every_secret_regex_compiles() {
    let catalogue = Catalogue::builtin();
    assert!(!catalogue.secrets.is_empty());
    for secret in &catalogue.secrets {
        let rule = &catalogue.rules[secret.rule].id;
        assert!(secret.any_token.get().is_some(), "{rule}: the token set");
        for token in &secret.tokens {
            assert!(token.regex.get().is_some(), "{rule}: token {}", token.name);
        }
        if let Some(names) = &secret.names {
            assert!(names.get().is_some(), "{rule}: the names");
        }
    }
}

/// Predicates' `matches` patterns compile on first use; every one must compile.
#[test]
fn every_predicate_regex_compiles() {
    fn check(predicates: &[Predicate], rule: &str, count: &mut usize) {
        for predicate in predicates {
            if let Some(regex) = &predicate.matches {
                assert!(regex.get().is_some(), "{rule}: a `matches` pattern");
                *count += 1;
            }
            check(&predicate.any, rule, count);
            check(&predicate.all, rule, count);
        }
    }
    let catalogue = Catalogue::builtin();
    let mut count = 0;
    for (rule, compiled) in catalogue.rules.iter().zip(&catalogue.compiled) {
        for predicates in [&compiled.when, &compiled.unless, &compiled.opt_out] {
            check(predicates, &rule.id, &mut count);
        }
    }
    assert!(count > 5, "the catalogue has `matches` patterns: {count}");
}

/// A token's anchors are a promise (every match holds one): only tokens whose anchors a string
/// holds are tried. Checked on every example of the secret rules.
#[test]
fn every_token_match_in_the_examples_holds_an_anchor() {
    let catalogue = Catalogue::builtin();
    let mut checked = 0;
    for secret in &catalogue.secrets {
        let rule = &catalogue.rules[secret.rule];
        let examples = rule.examples.bad.iter().chain(&rule.examples.good);
        for code in examples.map(|example| example.code()) {
            for token in secret.tokens.iter().filter(|t| !t.anchors.is_empty()) {
                let regex = token.regex.get().expect("the token compiles");
                for found in regex.find_iter(code) {
                    let text = found.as_str();
                    assert!(
                        token.anchors.iter().any(|a| text.contains(a.as_str())),
                        "{}: {} matched {text:?}, which holds none of {:?}",
                        rule.id,
                        token.name,
                        token.anchors
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 5, "the examples exercise the anchored tokens");
}

/// One pass over a string finds every secret rule whose anchors it holds, and only those.
#[test]
fn secret_anchors_name_the_rules_a_string_can_match() {
    let catalogue = Catalogue::builtin();
    let rules_of = |text: &str| -> Vec<&str> {
        let set = catalogue.secret_anchors.candidates(text);
        catalogue
            .secrets
            .iter()
            .enumerate()
            .filter(|(index, _)| set & (1 << index) != 0)
            .map(|(_, secret)| catalogue.rules[secret.rule].id.as_str())
            .collect()
    };
    let rule_with_anchor = |anchor: &str| {
        let secret = catalogue
            .secrets
            .iter()
            .find(|s| s.anchors.iter().any(|a| a == anchor))
            .unwrap_or_else(|| panic!("no secret rule is anchored on {anchor}"));
        catalogue.rules[secret.rule].id.as_str()
    };
    let unanchored: Vec<&str> = rules_of("nothing to see here");
    assert!(
        unanchored.len() < catalogue.secrets.len(),
        "some secret rules are anchored"
    );
    let hf = rule_with_anchor("hf_");
    let aws = rule_with_anchor("AKIA");
    assert!(!unanchored.contains(&hf) && !unanchored.contains(&aws));
    assert!(rules_of("token hf_abc").contains(&hf));
    // The anchors of two rules in one string: both rules.
    let both = rules_of("hf_AKIA");
    assert!(both.contains(&hf) && both.contains(&aws), "{both:?}");
}

#[test]
fn every_rule_has_examples_both_ways() {
    let catalogue = Catalogue::builtin();
    let mut missing = Vec::new();
    for rule in catalogue.rules.iter().filter(|r| !r.builtin) {
        if rule.examples.bad.len() < 2 || rule.examples.good.len() < 2 {
            missing.push(rule.id.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "rules with fewer than two bad and two good examples: {missing:?}"
    );
}

#[test]
fn bad_examples_fire_and_good_examples_stay_silent() {
    let catalogue = Catalogue::builtin();
    let mut failures = Vec::new();
    for rule in &catalogue.rules {
        for example in &rule.examples.bad {
            let language = language(rule, example);
            let found = findings_of(catalogue, language, example.code(), &rule.id);
            if found.is_empty() {
                failures.push(format!("{} did not fire on:\n{}", rule.id, example.code()));
                continue;
            }
            if let Some(expected) = example.severity()
                && found.iter().all(|f| f.severity != expected)
            {
                failures.push(format!(
                    "{} fired with {:?}, expected {expected} on:\n{}",
                    rule.id,
                    found.iter().map(|f| f.severity).collect::<Vec<_>>(),
                    example.code()
                ));
            }
        }
        for example in &rule.examples.good {
            let language = language(rule, example);
            let found = findings_of(catalogue, language, example.code(), &rule.id);
            if !found.is_empty() {
                failures.push(format!(
                    "{} fired on a good example (line {}):\n{}",
                    rule.id,
                    found[0].span.start.line,
                    example.code()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} example failures:\n\n{}",
        failures.len(),
        failures.join("\n---\n")
    );
}

#[test]
fn fixes_resolve_their_findings() {
    let catalogue = Catalogue::builtin();
    let mut failures = Vec::new();
    let mut fixed = 0;
    for rule in catalogue.rules.iter().filter(|r| r.fix.is_some()) {
        for example in &rule.examples.bad {
            let language = language(rule, example);
            let code = example.code();
            for finding in findings_of(catalogue, language, code, &rule.id) {
                if finding.fix.is_none() {
                    continue;
                }
                let after = apply(code, &finding);
                fixed += 1;
                let still = findings_of(catalogue, language, &after, &rule.id);
                if still
                    .iter()
                    .any(|f| f.span.start.line == finding.span.start.line)
                {
                    failures.push(format!(
                        "{}: fix did not resolve the finding:\n{after}",
                        rule.id
                    ));
                }
                let tree = threatlens_rules::lang::parse(language, &after, None).expect("parses");
                if tree.root_node().has_error() {
                    failures.push(format!(
                        "{}: fix produced a syntax error:\n{after}",
                        rule.id
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
    assert!(fixed > 0, "no rule fix was exercised");
}

#[test]
fn every_fixable_rule_fixes_at_least_one_bad_example() {
    let catalogue = Catalogue::builtin();
    let mut unfixed = Vec::new();
    for rule in catalogue.rules.iter().filter(|r| r.fix.is_some()) {
        let any = rule.examples.bad.iter().any(|example: &Example| {
            findings_of(catalogue, language(rule, example), example.code(), &rule.id)
                .iter()
                .any(|f| f.fix.is_some())
        });
        if !any {
            unfixed.push(rule.id.clone());
        }
    }
    assert!(
        unfixed.is_empty(),
        "rules whose fix never applies to their examples: {unfixed:?}"
    );
}

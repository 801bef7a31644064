//! The Python walk's inter-procedural summaries: callers defined before their callees, and
//! long call chains, which must neither lose taint nor exhaust the stack.

use threatlens_rules::catalogue::{Catalogue, Language};
use threatlens_rules::{Finding, Severity, analyse_source};

fn findings(code: &str) -> Vec<Finding> {
    analyse_source(
        Catalogue::builtin(),
        Language::Python,
        code,
        &Default::default(),
    )
    .findings
}

/// `main` calls `step0`, which calls `step1`, … which returns user input: every function is
/// defined before the one it calls, so each summary is read before its body has been walked.
fn chain(length: usize) -> String {
    let mut code = String::from("def main():\n    eval(step0())\n\n");
    for i in 0..length {
        code.push_str(&format!("def step{i}():\n    return step{}()\n\n", i + 1));
    }
    code.push_str(&format!("def step{length}():\n    return input()\n"));
    code
}

#[test]
fn taint_flows_back_through_callees_defined_after_their_callers() {
    let findings = findings(&chain(12));
    let eval: Vec<_> = findings.iter().filter(|f| f.rule == "TL401").collect();
    assert_eq!(eval.len(), 1, "{findings:#?}");
    assert_eq!(eval[0].severity, Severity::High, "{:#?}", eval[0]);
}

#[test]
fn a_method_sees_what_a_later_method_returns() {
    let code = "\
class Agent:
    def run(self):
        exec(self.plan())

    def plan(self):
        return input()
";
    let findings = findings(code);
    let exec: Vec<_> = findings.iter().filter(|f| f.rule == "TL401").collect();
    assert_eq!(exec.len(), 1, "{findings:#?}");
    assert_eq!(exec[0].severity, Severity::High, "{:#?}", exec[0]);
}

/// A class attribute set through the class (`Config.key = …`, `cls.key = …` in a classmethod)
/// is what its readers see, as one set through an instance is.
#[test]
fn an_attribute_set_through_the_class_reaches_its_readers() {
    let by_name = "\
class Config:
    key = None


def setup():
    Config.key = input()


def run():
    eval(Config.key)
";
    let by_classmethod = "\
class Config:
    key = None

    @classmethod
    def setup(cls):
        cls.key = input()

    def run(self):
        eval(self.key)
";
    for code in [by_name, by_classmethod] {
        let found = findings(code);
        let eval: Vec<_> = found.iter().filter(|f| f.rule == "TL401").collect();
        assert_eq!(eval.len(), 1, "{code}{found:#?}");
        assert_eq!(eval[0].severity, Severity::High, "{:#?}", eval[0]);
        // A constant set the same way stays a constant: nothing to report.
        let constant = code.replace("input()", "'print(1)'");
        assert!(findings(&constant).is_empty(), "{constant}");
    }
}

/// Iterating a generator gives what it yields: a streamed LLM completion joined and executed
/// is the completion executed. A generator that yields constants taints nothing.
#[test]
fn what_a_generator_yields_reaches_whoever_iterates_it() {
    let streamed = "\
from openai import OpenAI

client = OpenAI()


def stream(prompt):
    response = client.chat.completions.create(model='gpt-4o', messages=[], stream=True)
    for chunk in response:
        yield chunk.choices[0].delta.content


def run(prompt):
    exec(''.join(stream(prompt)))
";
    let delegated = "\
def lines():
    yield from input().splitlines()


def main():
    for line in lines():
        eval(line)
";
    for code in [streamed, delegated] {
        let found = findings(code);
        let executed: Vec<_> = found.iter().filter(|f| f.rule == "TL401").collect();
        assert_eq!(executed.len(), 1, "{code}{found:#?}");
        assert_eq!(executed[0].severity, Severity::High, "{:#?}", executed[0]);
    }
    let constant = "\
def lines():
    yield 'print(1)'


def main():
    for line in lines():
        eval(line)
";
    let found = findings(constant);
    assert!(
        found.iter().all(|f| f.severity < Severity::High),
        "{found:#?}"
    );
}

/// A recursive call gives what the function returns, also when the return comes after the
/// call: what it gives must not depend on how many passes the rest of the file needed.
#[test]
fn a_recursive_call_gives_what_a_later_return_returns() {
    let code = "def walk(node):\n    eval(walk(node.child))\n    return input()\n";
    let findings = findings(code);
    let eval: Vec<_> = findings.iter().filter(|f| f.rule == "TL401").collect();
    assert_eq!(eval.len(), 1, "{findings:#?}");
    assert_eq!(eval[0].severity, Severity::High, "{:#?}", eval[0]);
    assert!(
        eval[0].message.contains("user input (line 3)"),
        "{:#?}",
        eval[0]
    );
}

#[test]
fn recursion_and_long_chains_stay_within_a_small_stack() {
    let recursive = "def walk(node):\n    return walk(node.child) or input()\n\ndef main():\n    eval(walk(1))\n";
    let long = chain(3000);
    // Analysis threads (rayon, tokio's blocking pool) have 2 MiB stacks.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            assert!(!findings(recursive).is_empty());
            findings(&long)
        })
        .expect("spawn")
        .join()
        .expect("the walk must not overflow the stack");
}

/// `m0` reads an attribute that `m1` sets, `m1` one that `m2` sets, …: every method is walked
/// ahead of its turn from inside the one before, which must stay within a small stack too.
#[test]
fn long_chains_of_attribute_setters_stay_within_a_small_stack() {
    let mut code = String::from("class Chain:\n");
    for i in 0..3000 {
        code.push_str(&format!(
            "    def m{i}(self):\n        self.a{i} = self.a{}\n\n",
            i + 1
        ));
    }
    code.push_str("    def last(self):\n        self.a3000 = input()\n\n    def run(self):\n        eval(self.a0)\n");
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || findings(&code))
        .expect("spawn")
        .join()
        .expect("the walk must not overflow the stack");
}

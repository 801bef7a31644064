//! Chat templates are Jinja2 (GGUF `tokenizer.chat_template`). Rendered outside a sandbox
//! (llama-cpp-python < 0.2.72, CVE-2024-34359; SGLang, CVE-2026-5760) a template can walk
//! from any object to Python's internals (`''.__class__.__mro__[1].__subclasses__()`) or use
//! Jinja's default globals (`cycler`, `joiner`, `lipsum`) as stepping stones to `os`.
//!
//! Plain chat rendering needs none of that: loops over `messages`, conditionals, string
//! methods, `raise_exception`, `namespace()`. The check tokenises the template's `{{ }}` and
//! `{% %}` blocks (the literal text around them is not code) and reports:
//! - any dunder name, as an attribute or inside a string (`|attr('__globals__')`, `x['__class__']`);
//! - the `attr` filter, which fetches attributes by computed name;
//! - globals a chat template has no use for and that SSTI payloads start from: `cycler`,
//!   `joiner`, `lipsum`, `self`, `config`, `request`, `os`, `url_for`, `getattr`, …;
//! - `import`/`include`/`extends`/`from` statements, which load other templates.
//!
//! `namespace` is deliberately allowed: it is a sandbox-safe Jinja global that most current
//! chat templates (Llama 3, Qwen 2.5, DeepSeek) use to carry state across loop iterations, and
//! it gives no path to Python internals without a dunder, which is reported anyway.

/// Names a chat template has no business reaching for.
const RISKY_NAMES: &[&str] = &[
    "cycler",
    "joiner",
    "lipsum",
    "self",
    "config",
    "request",
    "session",
    "os",
    "sys",
    "subprocess",
    "builtins",
    "globals",
    "getattr",
    "setattr",
    "eval",
    "exec",
    "popen",
    "system",
    "url_for",
    "get_flashed_messages",
    "attr",
    "mro",
    "func_globals",
    "f_globals",
    "gi_frame",
    "cr_frame",
];

const RISKY_STATEMENTS: &[&str] = &["import", "from", "include", "extends"];

/// The constructs in `template` that reach beyond plain rendering, each once, in order.
pub fn risky_constructs(template: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut note = |what: String| {
        if !found.contains(&what) && found.len() < 20 {
            found.push(what);
        }
    };
    let bytes = template.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] != b'{' || !matches!(bytes[i + 1], b'{' | b'%' | b'#') {
            i += 1;
            continue;
        }
        let open = bytes[i + 1];
        i += 2;
        if open == b'#' {
            i = memchr::memmem::find(&bytes[i..], b"#}").map_or(bytes.len(), |end| i + end + 2);
            continue;
        }
        let close = if open == b'{' { b'}' } else { b'%' };
        let mut first_word = true;
        while i < bytes.len() {
            let b = bytes[i];
            if b == close && bytes.get(i + 1) == Some(&b'}') {
                i += 2;
                break;
            }
            if b == b'\'' || b == b'"' {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let text = template.get(start..i.min(bytes.len())).unwrap_or("");
                if let Some(dunder) = dunder_in(text) {
                    note(format!("string `{dunder}`"));
                }
                i += 1;
                continue;
            }
            if b.is_ascii_alphabetic() || b == b'_' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &template[start..i];
                if first_word && open == b'%' && RISKY_STATEMENTS.contains(&word) {
                    note(format!("`{word}` statement"));
                } else if (word.len() > 4 && word.starts_with("__") && word.ends_with("__"))
                    || RISKY_NAMES.contains(&word)
                {
                    note(format!("`{word}`"));
                }
                first_word = false;
                continue;
            }
            if !b.is_ascii_whitespace() && b != b'-' && b != b'+' {
                first_word = false;
            }
            i += 1;
        }
    }
    found
}

fn dunder_in(text: &str) -> Option<&str> {
    let start = text.find("__")?;
    let rest = &text[start + 2..];
    let end = rest.find("__")?;
    let name = &rest[..end];
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then(|| &text[start..start + end + 4])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_chat_templates_are_fine() {
        let llama3 = "{% set loop_messages = messages %}{% for message in loop_messages %}\
            {% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}\
            {% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}\
            {% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
        assert!(risky_constructs(llama3).is_empty());
        let qwen = "{%- set ns = namespace(multi_step_tool=true) %}{%- if tools %}{{- 'You can import os.' }}{%- endif %}\
            {# the config of __class__ #} text about os and import outside blocks";
        assert!(
            risky_constructs(qwen).is_empty(),
            "{:?}",
            risky_constructs(qwen)
        );
    }

    #[test]
    fn escapes_are_reported() {
        let ssti = "{{ ''.__class__.__mro__[1].__subclasses__() }}";
        assert_eq!(
            risky_constructs(ssti),
            vec!["`__class__`", "`__mro__`", "`__subclasses__`"]
        );
        let found = risky_constructs("{{ cycler.__init__.__globals__.os.popen('id').read() }}");
        assert!(found.contains(&"`cycler`".to_string()));
        assert!(found.contains(&"`os`".to_string()));
        let found = risky_constructs("{{ x|attr('__globals__') }}{% import 'm' as m %}");
        assert_eq!(
            found,
            vec!["`attr`", "string `__globals__`", "`import` statement"]
        );
        assert_eq!(
            risky_constructs("{{ lipsum }} {{ '}}' }}"),
            vec!["`lipsum`"]
        );
        assert!(risky_constructs("{{ unterminated 'string").is_empty());
    }
}

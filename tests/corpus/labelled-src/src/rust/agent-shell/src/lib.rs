//! `agent-shell`: lets a local LLM propose shell commands for ops tasks.
//!
//! The model runs behind an OpenAI-compatible endpoint; proposals are executed
//! after an optional confirmation prompt.

use std::io::{self, Write};
use std::process::{Command, Output};
use std::time::Duration;

use anyhow::{anyhow, Result};
use serde::Deserialize;
use serde_json::json;

const DEFAULT_ENDPOINT: &str = "http://llm-gateway.ops.acme-corp.net:8080/v1/chat/completions";  //@ safe: constant definition; the finding is reported at the call that uses it
const LOCAL_ENDPOINT: &str = "http://127.0.0.1:8080/v1/chat/completions";  //@ safe: loopback URL constant
const OPENAI_API_KEY: &str = "@@KEY:openai_legacy@@"; //@ secret: OpenAI key in a Rust const

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: String,
}

pub struct ShellAgent {
    client: reqwest::blocking::Client,
    endpoint: String,
    pub confirm: bool,
}

impl ShellAgent {
    pub fn new(local: bool) -> Result<Self> {
        let client = reqwest::blocking::Client::builder()
            .danger_accept_invalid_certs(true) //@ tls: reqwest danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(60))
            .build()?;
        let endpoint = if local { LOCAL_ENDPOINT } else { DEFAULT_ENDPOINT };
        Ok(Self { client, endpoint: endpoint.to_string(), confirm: true })
    }

    pub fn propose(&self, task: &str) -> Result<String> {
        let body = json!({
            "model": "qwen2.5-coder-7b",
            "messages": [
                {"role": "system", "content": "Reply with a single POSIX shell command, nothing else."},
                {"role": "user", "content": task}
            ],
            "temperature": 0.0
        });
        let resp: ChatResponse = self
            .client
            .post(&self.endpoint) //@ http: chat API (and bearer key) over plain http to a remote gateway by default
            .bearer_auth(OPENAI_API_KEY)
            .json(&body)
            .send()?
            .json()?;
        let cmd = resp.choices.into_iter().next().ok_or_else(|| anyhow!("no choices"))?.message.content;
        Ok(cmd.trim().trim_matches('`').to_string())
    }

    pub fn run(&self, task: &str) -> Result<Output> {
        let cmd = self.propose(task)?;
        if self.confirm {
            print!("run `{cmd}`? [y/N] ");
            io::stdout().flush()?;
            let mut answer = String::new();
            io::stdin().read_line(&mut answer)?;
            if !answer.trim().eq_ignore_ascii_case("y") {
                return Err(anyhow!("aborted"));
            }
        }
        let out = Command::new("sh").arg("-c").arg(&cmd).output()?; //@ exec: LLM-proposed command run through sh -c
        Ok(out)
    }

    pub fn disk_usage(&self, path: &str) -> Result<Output> {
        Ok(Command::new("du").args(["-sh", path]).output()?) //@ safe: fixed program with argv, no shell
    }
}

pub fn run_batch(tasks: &[&str]) -> Result<Vec<Output>> {
    let mut agent = ShellAgent::new(false)?;
    agent.confirm = false;
    tasks.iter().map(|t| agent.run(t)).collect()
}

pub fn fetch_runbook(name: &str) -> Result<String> {
    let url = format!("http://runbooks.ops.acme-corp.net/{name}.md");
    Ok(reqwest::blocking::get(url)?.text()?) //@ http: runbook fetched over plain http
}

pub fn healthcheck() -> Result<bool> {
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(3)).build()?;
    Ok(client.get("http://localhost:8080/health").send()?.status().is_success()) //@ safe: loopback URL
}

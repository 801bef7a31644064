//! The stdio transport in front of tower-lsp-server.
//!
//! tower-lsp-server 0.23 reads stdin through a `FramedRead` that ends its stream on the first
//! frame it cannot decode (tokio-util returns `None` after a decoder error), so one malformed
//! message from a client would shut the server down. This proxy frames stdin itself, answers
//! malformed messages (`-32700` parse error, `-32600` invalid request, with a `window/logMessage`)
//! and passes only valid JSON-RPC on to the server through an in-memory pipe. The server's output
//! comes back through another pipe and is written to stdout whole frame by whole frame, with the
//! proxy's own answers slotted in between.

use super::protocol::jsonrpc::{Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// Frames are refused above this size (a message that large is not an editor talking).
const MAX_FRAME: usize = 512 * 1024 * 1024;

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    framed.extend_from_slice(body);
    framed
}

/// Reads one frame: `Ok(None)` at the end of the stream, `Err` for a header block without a
/// usable `Content-Length` (skipped; the caller answers it).
async fn read_frame(
    reader: &mut (impl AsyncBufRead + Unpin),
) -> std::io::Result<Option<Result<Vec<u8>, String>>> {
    let mut length: Option<Result<usize, String>> = None;
    let mut seen_any = false;
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if seen_any {
                break;
            }
            continue;
        }
        seen_any = true;
        // Anywhere in the line, so that garbage before a header is skipped (resynchronising).
        let lower = text.to_ascii_lowercase();
        if let Some(at) = lower.find("content-length:") {
            let value = text[at + "content-length:".len()..].trim();
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("invalid Content-Length `{value}`")),
            );
        }
    }
    let length = match length {
        None => return Ok(Some(Err("a header without Content-Length".into()))),
        Some(Err(error)) => return Ok(Some(Err(error))),
        Some(Ok(length)) if length > MAX_FRAME => {
            // Skip it without keeping it.
            let mut left = length as u64;
            let mut sink = tokio::io::sink();
            left -= tokio::io::copy(&mut reader.take(left), &mut sink).await?;
            if left > 0 {
                return Ok(None);
            }
            return Ok(Some(Err(format!(
                "a {length}-byte message, over the limit"
            ))));
        }
        Some(Ok(length)) => length,
    };
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(Ok(body)))
}

/// What is wrong with a message body, as a JSON-RPC error response; `None` if it is valid.
pub fn check(body: &[u8]) -> Option<(Value, String)> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            let response = json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}});
            return Some((response, format!("a message that is not JSON ({error})")));
        }
    };
    let valid = if value.get("method").is_some() {
        Request::deserialize(&value)
            .map(drop)
            .map_err(|e| e.to_string())
    } else {
        Response::deserialize(&value)
            .map(drop)
            .map_err(|e| e.to_string())
    };
    let error = valid.err()?;
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_i64())
        .cloned()
        .unwrap_or(Value::Null);
    let response = json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600, "message": "Invalid request"}});
    Some((response, format!("an invalid JSON-RPC message ({error})")))
}

fn log(message: &str) -> Value {
    json!({"jsonrpc": "2.0", "method": "window/logMessage", "params": {"type": 2, "message": format!("threatlens: ignored {message}")}})
}

/// Copies valid messages from `input` to the server; answers the others through `answers`.
pub async fn forward_input(
    input: impl AsyncRead + Unpin,
    mut server: impl AsyncWrite + Unpin,
    answers: UnboundedSender<Out>,
) {
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    let mut initialized = false;
    loop {
        let read = match read_frame(&mut reader).await {
            Ok(Some(read)) => read,
            Ok(None) | Err(_) => break,
        };
        let problem = match read {
            Ok(body) => match check(&body) {
                None => {
                    initialized = initialized || body.windows(12).any(|w| w == b"\"initialize\"");
                    if server.write_all(&frame(&body)).await.is_err() {
                        break;
                    }
                    continue;
                }
                Some((response, problem)) => {
                    let _ = answers.send(Out::Frame(frame(response.to_string().as_bytes())));
                    problem
                }
            },
            Err(problem) => problem,
        };
        if initialized {
            let _ = answers.send(Out::Frame(frame(log(&problem).to_string().as_bytes())));
        }
    }
    // End of input: let the server see it.
    let _ = server.shutdown().await;
}

/// What goes to stdout.
pub enum Out {
    Frame(Vec<u8>),
    /// The server has finished writing.
    End,
}

/// Copies the server's frames, whole, to the output queue.
pub async fn forward_server_output(server: impl AsyncRead + Unpin, queue: UnboundedSender<Out>) {
    let mut reader = BufReader::with_capacity(64 * 1024, server);
    while let Ok(Some(Ok(body))) = read_frame(&mut reader).await {
        if queue.send(Out::Frame(frame(&body))).is_err() {
            break;
        }
    }
    let _ = queue.send(Out::End);
}

/// Writes queued frames to `output` until the server is done.
pub async fn write_output(mut queue: UnboundedReceiver<Out>, mut output: impl AsyncWrite + Unpin) {
    while let Some(Out::Frame(bytes)) = queue.recv().await {
        if output.write_all(&bytes).await.is_err() || output.flush().await.is_err() {
            break;
        }
    }
    let _ = output.flush().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_messages() {
        assert!(check(br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#).is_none());
        assert!(check(br#"{"jsonrpc":"2.0","id":1,"result":null}"#).is_none());
        let (response, _) = check(b"{nope").unwrap();
        assert_eq!(response["error"]["code"], -32700);
        let (response, _) = check(br#"{"hello":1}"#).unwrap();
        assert_eq!(response["error"]["code"], -32600);
        let (response, _) = check(br#"{"jsonrpc":"1.0","id":7,"method":"x"}"#).unwrap();
        assert_eq!(response["id"], 7);
    }

    #[tokio::test]
    async fn frames_resynchronise_after_garbage() {
        let input: &[u8] =
            b"garbage\r\nX-Other: 1\r\n\r\nnoise Content-Length: 2\r\n\r\n{}Content-Length: 3\r\n\r\n[1]";
        let mut reader = BufReader::new(input);
        assert!(read_frame(&mut reader).await.unwrap().unwrap().is_err());
        assert_eq!(
            read_frame(&mut reader).await.unwrap().unwrap().unwrap(),
            b"{}"
        );
        assert_eq!(
            read_frame(&mut reader).await.unwrap().unwrap().unwrap(),
            b"[1]"
        );
        assert!(read_frame(&mut reader).await.unwrap().is_none());
    }
}

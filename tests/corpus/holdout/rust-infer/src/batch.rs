//! Binary batch protocol between the router and GPU workers, and artefact upload.

use anyhow::Result;
use aws_sdk_s3::{
    primitives::ByteStream,
    types::ServerSideEncryption,
    Client as S3Client,
};
use bincode::Options;
use serde::{Deserialize, Serialize};
use tokio::{
    io::AsyncReadExt,
    net::{TcpListener, TcpStream},
};

const MAX_FRAME: u64 = 8 * 1024 * 1024;

#[derive(Serialize, Deserialize, Debug)]
pub struct Batch {
    pub request_ids: Vec<u64>,
    pub texts: Vec<String>,
}

async fn read_frame(sock: &mut TcpStream) -> Result<Vec<u8>> {
    let len = sock.read_u32().await? as usize;
    let mut buf = vec![0u8; len];
    sock.read_exact(&mut buf).await?;
    Ok(buf)
}

pub async fn worker_loop(addr: &str) -> Result<()> {
    let listener = TcpListener::bind(addr).await?;
    loop {
        let (mut sock, _) = listener.accept().await?;
        let frame = read_frame(&mut sock).await?;
        let batch: Batch = bincode::deserialize(&frame)?;
        tracing::info!(n = batch.texts.len(), "batch");
    }
}

pub fn decode_limited(frame: &[u8]) -> Result<Batch> {
    Ok(bincode::options().with_limit(MAX_FRAME).deserialize(frame)?)
}

pub fn decode_json(frame: &[u8]) -> Result<Batch> {
    Ok(serde_json::from_slice(frame)?)
}

pub async fn upload_onnx(s3: &S3Client, bucket: &str, key: &str, bytes: Vec<u8>) -> Result<()> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(bytes))
        .send()
        .await?;
    Ok(())
}

pub async fn upload_onnx_kms(s3: &S3Client, bucket: &str, key: &str, kms_key: &str, bytes: Vec<u8>) -> Result<()> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(kms_key)
        .body(ByteStream::from(bytes))
        .send()
        .await?;
    Ok(())
}

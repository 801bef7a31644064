//! Bounded, streaming input for the artefact scanners.
//!
//! Scanners never read a whole file: they pull bytes through [`Input`], which counts the
//! position, refuses to go past a byte budget (`artefact-max-size`), and skips payloads (tensor
//! data, long strings) by seeking when the source can seek and by reading into a sink when it
//! cannot (zip entries, decompressors).

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

/// Why reading stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The data ended at this offset while more was needed.
    Eof(u64),
    /// The byte budget was used up at this offset.
    Budget(u64),
    Io(String),
}

impl Stop {
    pub fn describe(&self) -> String {
        match self {
            Self::Eof(at) => format!("truncated at byte {at}"),
            Self::Budget(at) => {
                format!("stopped at the size limit (artefact-max-size) after {at} bytes")
            }
            Self::Io(error) => format!("read error: {error}"),
        }
    }
}

impl From<io::Error> for Stop {
    fn from(error: io::Error) -> Self {
        Self::Io(error.to_string())
    }
}

/// A buffered byte source that can skip forward.
pub trait Source: BufRead {
    /// Skips up to `n` bytes; returns how many were skipped (fewer at end of data).
    fn skip_bytes(&mut self, n: u64) -> io::Result<u64>;
}

/// A source that can only be read (zip entries, decompressors).
pub struct Streaming<R: Read>(pub BufReader<R>);

impl<R: Read> Streaming<R> {
    pub fn new(inner: R) -> Self {
        Self(BufReader::with_capacity(64 * 1024, inner))
    }
}

impl<R: Read> Read for Streaming<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read> BufRead for Streaming<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.0.fill_buf()
    }
    fn consume(&mut self, amount: usize) {
        self.0.consume(amount)
    }
}

impl<R: Read> Source for Streaming<R> {
    fn skip_bytes(&mut self, n: u64) -> io::Result<u64> {
        io::copy(&mut (&mut self.0).take(n), &mut io::sink())
    }
}

/// A seekable source of known length (files, in-memory buffers): skipping is a seek.
pub struct Seekable<R: Read + Seek> {
    inner: BufReader<R>,
    pos: u64,
    len: u64,
}

impl<R: Read + Seek> Seekable<R> {
    /// Wraps `inner`, positioned at its start, whose total length is `len`.
    pub fn new(inner: R, len: u64) -> Self {
        Self {
            inner: BufReader::with_capacity(64 * 1024, inner),
            pos: 0,
            len,
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Moves to an absolute position (clamped to the end).
    pub fn seek_to(&mut self, at: u64) -> io::Result<()> {
        let at = at.min(self.len);
        self.inner.seek(SeekFrom::Start(at))?;
        self.pos = at;
        Ok(())
    }

    pub fn into_inner(self) -> R {
        self.inner.into_inner()
    }
}

impl<R: Read + Seek> Read for Seekable<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> BufRead for Seekable<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amount: usize) {
        self.pos += amount as u64;
        self.inner.consume(amount)
    }
}

impl<R: Read + Seek> Source for Seekable<R> {
    fn skip_bytes(&mut self, n: u64) -> io::Result<u64> {
        let n = n.min(self.len.saturating_sub(self.pos));
        let step = i64::try_from(n).map_err(io::Error::other)?;
        self.inner.seek_relative(step)?;
        self.pos += n;
        Ok(n)
    }
}

/// A source with a position, an optional known end and a byte budget.
pub struct Input<'s> {
    source: &'s mut dyn Source,
    pos: u64,
    /// Total length, when known: lengths claiming more than what is left are lies.
    end: Option<u64>,
    /// Offset past which nothing is read.
    budget: u64,
}

impl<'s> Input<'s> {
    pub fn new(source: &'s mut dyn Source, end: Option<u64>, budget: u64) -> Self {
        Self {
            source,
            pos: 0,
            end,
            budget,
        }
    }

    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Bytes known to remain, when the length is known.
    pub fn remaining(&self) -> Option<u64> {
        self.end.map(|end| end.saturating_sub(self.pos))
    }

    /// The next byte, or `None` at the end of data.
    pub fn peek(&mut self) -> Result<Option<u8>, Stop> {
        if self.end.is_some_and(|end| self.pos >= end) {
            return Ok(None);
        }
        if self.pos >= self.budget {
            return Err(Stop::Budget(self.pos));
        }
        Ok(self.source.fill_buf()?.first().copied())
    }

    pub fn at_end(&mut self) -> Result<bool, Stop> {
        if self.end.is_some_and(|end| self.pos >= end) {
            return Ok(true);
        }
        Ok(self.peek()?.is_none())
    }

    pub fn byte(&mut self) -> Result<u8, Stop> {
        let b = self.peek()?.ok_or(Stop::Eof(self.pos))?;
        self.source.consume(1);
        self.pos += 1;
        Ok(b)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], Stop> {
        let mut out = [0u8; N];
        for slot in &mut out {
            *slot = self.byte()?;
        }
        Ok(out)
    }

    pub fn u16_le(&mut self) -> Result<u16, Stop> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    pub fn u32_le(&mut self) -> Result<u32, Stop> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub fn u64_le(&mut self) -> Result<u64, Stop> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Checks that `n` more bytes can exist: within the known length and the budget.
    pub fn check_len(&self, n: u64) -> Result<(), Stop> {
        let want = self.pos.saturating_add(n);
        if let Some(end) = self.end
            && want > end
        {
            return Err(Stop::Eof(end));
        }
        if want > self.budget {
            return Err(Stop::Budget(self.budget));
        }
        Ok(())
    }

    /// Reads `n` bytes, keeping at most `keep` of them (the rest is skipped). Returns the kept
    /// bytes; the caller knows `n`.
    pub fn bytes(&mut self, n: u64, keep: usize) -> Result<Vec<u8>, Stop> {
        self.check_len(n)?;
        let kept = n.min(keep as u64) as usize;
        let mut out = Vec::with_capacity(kept);
        while out.len() < kept {
            let buf = self.source.fill_buf()?;
            if buf.is_empty() {
                return Err(Stop::Eof(self.pos));
            }
            let take = buf.len().min(kept - out.len());
            out.extend_from_slice(&buf[..take]);
            self.source.consume(take);
            self.pos += take as u64;
        }
        self.skip(n - kept as u64)?;
        Ok(out)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: u64) -> Result<(), Stop> {
        self.check_len(n)?;
        let skipped = self.source.skip_bytes(n)?;
        self.pos += skipped;
        if skipped < n {
            return Err(Stop::Eof(self.pos));
        }
        Ok(())
    }

    /// Reads up to and including `\n`, keeping at most `keep` bytes (without the newline) and
    /// giving up after `max` bytes.
    pub fn line(&mut self, keep: usize, max: u64) -> Result<Vec<u8>, Stop> {
        let mut out = Vec::new();
        let start = self.pos;
        loop {
            if self.pos - start > max {
                return Err(Stop::Eof(self.pos));
            }
            let buf = self.source.fill_buf()?;
            if buf.is_empty() {
                return Err(Stop::Eof(self.pos));
            }
            let limit = self.budget.min(self.end.unwrap_or(u64::MAX));
            let room = usize::try_from(limit.saturating_sub(self.pos)).unwrap_or(usize::MAX);
            if room == 0 {
                return Err(if self.end.is_some_and(|end| self.pos >= end) {
                    Stop::Eof(self.pos)
                } else {
                    Stop::Budget(self.pos)
                });
            }
            let buf = &buf[..buf.len().min(room)];
            let (chunk, found) = match memchr::memchr(b'\n', buf) {
                Some(i) => (&buf[..i], true),
                None => (buf, false),
            };
            let want = keep.saturating_sub(out.len()).min(chunk.len());
            out.extend_from_slice(&chunk[..want]);
            let used = chunk.len() + usize::from(found);
            self.source.consume(used);
            self.pos += used as u64;
            if found {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn lengths_beyond_the_end_are_refused_without_reading() {
        let data = vec![7u8; 16];
        let mut source = Seekable::new(Cursor::new(data), 16);
        let mut input = Input::new(&mut source, Some(16), u64::MAX);
        assert_eq!(input.byte(), Ok(7));
        assert_eq!(input.bytes(1 << 62, 16), Err(Stop::Eof(16)));
        assert_eq!(input.bytes(3, 2), Ok(vec![7, 7]));
        assert_eq!(input.pos(), 4);
    }

    #[test]
    fn budget_stops_reading() {
        let mut source = Streaming::new(io::repeat(b'a'));
        let mut input = Input::new(&mut source, None, 10);
        assert!(input.skip(8).is_ok());
        assert_eq!(input.line(4, 100), Err(Stop::Budget(10)));
    }
}

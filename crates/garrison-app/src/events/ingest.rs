//! Ingesting a log file: read line by line, published on the pipeline's
//! bus in batches, answered once every line is stored (or failed).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use garrison_core::audit::{Action, AuditEntry};
use garrison_core::{EventId, Permission, Principal, TenantId};
use garrison_ingest::bus::{Bus, PublishError, RawLine};
use garrison_scan::Progress;
use garrison_scan::input::Counted;
use serde::Serialize;
use serde_json::json;

pub use garrison_ingest::Format;

use super::pipeline::{Pipeline, PipelineSettings};
use crate::{App, AppError, AppResult};

/// Lines longer than this are cut (at a character boundary once decoded).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Failures listed in a summary (those of the lowest line numbers).
pub const SUMMARY_FAILURES: usize = 20;

/// A line that could not be read or stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineFailure {
    /// 1-based line number in the file.
    pub line: u64,
    pub reason: String,
}

/// What an ingestion did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestSummary {
    pub tenant: TenantId,
    pub file: String,
    /// The format asked for (`auto` detects per line).
    pub format: String,
    /// The source id the events carry (`file:NAME`).
    pub source_id: String,
    /// Non-blank lines read and published.
    pub lines: u64,
    /// Blank lines skipped.
    pub blank: u64,
    /// Lines cut at [`MAX_LINE_BYTES`].
    pub truncated: u64,
    pub parsed: u64,
    pub failed: u64,
    /// The first failures (at most [`SUMMARY_FAILURES`]), by line number.
    pub failures: Vec<LineFailure>,
    /// New events written.
    pub stored: u64,
    /// Events already stored (only after a redelivery).
    pub duplicates: u64,
}

/// One line: its number, its text, whether it was cut.
type ReadLine = (u64, String, bool);

/// Reads a line of at most `max` bytes into `buf` (without its `\n` or
/// `\r\n`), skipping the rest of a longer one. `Ok(None)` at the end;
/// `Ok(Some(cut))` otherwise.
fn read_line_capped<R: BufRead>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    buf.clear();
    let mut cut = false;
    let mut any = false;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i, true),
            None => (chunk.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        if take > room {
            cut = true;
        }
        buf.extend_from_slice(&chunk[..take.min(room)]);
        r.consume(if done { take + 1 } else { take });
        if done {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(cut))
}

/// Reads `path`'s non-blank lines in batches of `batch` into `tx`; returns
/// (lines published, blank lines, cut lines).
fn read_batches(
    path: &Path,
    batch: usize,
    progress: Arc<Progress>,
    tx: &tokio::sync::mpsc::Sender<Vec<ReadLine>>,
) -> std::io::Result<(u64, u64, u64)> {
    let file = std::fs::File::open(path)?;
    let mut reader =
        Counted::new(BufReader::with_capacity(64 * 1024, file)).with_progress(progress);
    let mut buf = Vec::with_capacity(4096);
    let (mut lines, mut blank, mut truncated, mut number) = (0_u64, 0_u64, 0_u64, 0_u64);
    let mut pending = Vec::with_capacity(batch);
    while let Some(cut) = read_line_capped(&mut reader, &mut buf, MAX_LINE_BYTES)? {
        number += 1;
        let text = String::from_utf8_lossy(&buf);
        if text.trim().is_empty() {
            blank += 1;
            continue;
        }
        if cut {
            truncated += 1;
        }
        lines += 1;
        pending.push((number, text.into_owned(), cut));
        if pending.len() >= batch {
            if tx.blocking_send(std::mem::take(&mut pending)).is_err() {
                return Ok((lines, blank, truncated));
            }
            pending.reserve(batch);
        }
    }
    if !pending.is_empty() {
        let _ = tx.blocking_send(pending);
    }
    Ok((lines, blank, truncated))
}

impl App {
    /// Starts the ingest pipeline with `settings` (the binary does this at
    /// start); a pipeline already running is kept and returned.
    pub fn start_pipeline(&self, settings: PipelineSettings) -> Arc<Pipeline> {
        self.pipeline
            .get_or_init(|| {
                Arc::new(Pipeline::start(
                    self.store.clone(),
                    self.clock.clone(),
                    settings,
                    self.asset_indexes.clone(),
                    self.detection.clone(),
                ))
            })
            .clone()
    }

    /// The ingest pipeline, started with the default settings if nobody
    /// started it yet. Must be called on a tokio runtime.
    pub fn pipeline(&self) -> Arc<Pipeline> {
        self.start_pipeline(PipelineSettings::default())
    }

    /// Ingests a log file into `tenant`: every non-blank line (cut at
    /// [`MAX_LINE_BYTES`], invalid UTF-8 replaced) is published on the
    /// pipeline's bus as `format` under the source `file:NAME`, and the call
    /// returns once all are stored or counted failed. Reading is bounded
    /// by the bus's capacity (publishing waits for room). Ingesting the same
    /// file again is a new ingestion and stores its events again.
    ///
    /// # Errors
    /// `NotFound` for an invisible tenant, `Forbidden` without
    /// `EventIngest`, `Invalid` for an unreadable file, `Unavailable` when
    /// the pipeline is shutting down.
    pub async fn ingest_file(
        &self,
        p: &Principal,
        tenant: TenantId,
        path: &Path,
        format: Format,
        progress: Arc<Progress>,
    ) -> AppResult<IngestSummary> {
        let scope = p.scope(tenant).ok_or(AppError::NotFound)?;
        self.store.find_tenant(&scope).await?;
        if !p.can(Permission::EventIngest) {
            return Err(AppError::Forbidden(
                "your role does not allow ingesting events",
            ));
        }
        let file = path
            .file_name()
            .map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned());
        if !path.is_file() {
            return Err(AppError::invalid(
                "file",
                format!("{file} is not a readable file"),
            ));
        }
        let source_id = format!("file:{file}");
        let pipeline = self.pipeline();
        let receipt = pipeline.receipt();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<ReadLine>>(4);
        let reader = {
            let path = path.to_owned();
            let batch = pipeline.batch_size();
            tokio::task::spawn_blocking(move || read_batches(&path, batch, progress, &tx))
        };
        let mut published = 0_u64;
        let mut refused = None;
        while let Some(lines) = rx.recv().await {
            let received_at = self.clock.now();
            let batch: Vec<RawLine> = lines
                .into_iter()
                .map(|(number, line, _)| RawLine {
                    id: EventId::new(),
                    tenant,
                    source_id: source_id.clone(),
                    received_at,
                    format,
                    line,
                    receipt: Some(receipt.tag(number)),
                })
                .collect();
            let n = batch.len() as u64;
            match pipeline.bus().publish_wait(tenant, batch).await {
                Ok(_) => published += n,
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        drop(rx);
        let read = reader
            .await
            .map_err(|e| AppError::Internal(format!("file reader: {e}")))?;
        let counts = receipt.wait_for(published).await;
        if counts.settled < published {
            return Err(AppError::Unavailable(
                "the ingest pipeline stopped before every line was stored".to_owned(),
            ));
        }
        if let Some(e) = refused {
            return Err(match e {
                PublishError::Closed => {
                    AppError::Unavailable("the ingest pipeline is shutting down".to_owned())
                }
                other => AppError::Internal(format!("publishing lines: {other}")),
            });
        }
        let (lines, blank, truncated) = read.map_err(|e| {
            AppError::invalid(
                "file",
                format!("{file}: reading failed after {published} lines: {e}"),
            )
        })?;
        let summary = IngestSummary {
            tenant,
            file: file.clone(),
            format: format.as_str().to_owned(),
            source_id,
            lines,
            blank,
            truncated,
            parsed: counts.parsed,
            failed: counts.failed,
            failures: counts
                .failures
                .iter()
                .take(SUMMARY_FAILURES)
                .map(|(line, reason)| LineFailure {
                    line: *line,
                    reason: reason.clone(),
                })
                .collect(),
            stored: counts.stored,
            duplicates: counts.duplicates,
        };
        let entry = AuditEntry::by(p, self.clock.now(), Action::EventsIngested)
            .tenant(Some(tenant))
            .target(format!("tenant:{tenant}"))
            .details(&json!({
                "file": file, "format": summary.format, "source_id": summary.source_id,
                "lines": lines, "parsed": summary.parsed, "failed": summary.failed,
                "stored": summary.stored, "duplicates": summary.duplicates,
            }));
        self.store.append_audit(&entry).await?;
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_and_terminators_dropped() {
        let mut input = Vec::new();
        input.extend_from_slice(b"one\r\n\n");
        input.extend(std::iter::repeat_n(b'x', 100));
        input.extend_from_slice(b"\nlast");
        let mut r = std::io::BufReader::with_capacity(7, &input[..]);
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some(cut) = read_line_capped(&mut r, &mut buf, 10).expect("read") {
            got.push((String::from_utf8_lossy(&buf).into_owned(), cut));
        }
        assert_eq!(
            got,
            [
                ("one".to_owned(), false),
                (String::new(), false),
                ("x".repeat(10), true),
                ("last".to_owned(), false),
            ]
        );
    }
}

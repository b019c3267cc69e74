//! What goes wrong while reading a file.

/// A record that was skipped, and why. The rest of the file goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 1-based line where the record starts (or where the problem is).
    pub line: u64,
    pub reason: String,
}

impl Rejection {
    pub fn new(line: u64, reason: impl Into<String>) -> Self {
        Self {
            line,
            reason: reason.into(),
        }
    }
}

/// Why a file could not be read on. Records yielded before it stand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ScanError {
    pub line: u64,
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The document declares a DTD or uses an entity it does not define:
    /// refused, whatever the declaration says.
    Refused,
    /// The file is not the format it was read as, or not well-formed.
    Malformed,
    /// The file ends before the document does.
    Truncated,
    /// A size, depth or count limit was exceeded.
    TooLarge,
    /// Reading failed.
    Io,
}

impl ScanError {
    pub fn new(line: u64, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            line,
            kind,
            message: message.into(),
        }
    }
}

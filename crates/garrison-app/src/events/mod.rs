//! Security events: the ingest pipeline (raw lines from the bus, parsed
//! and normalised, stored with an acknowledgement after the commit), the
//! use cases that read events back (search, one event, counts, the live
//! feed), how ingestion is observed (counters, queue depth, lag) and
//! retention.

mod commit;
pub mod detection;
pub mod http;
pub mod ingest;
pub mod lag;
pub mod live;
pub mod observe;
pub mod pipeline;
pub mod retention;
pub mod search;

//! Security events: the ingest pipeline (raw lines from the bus, parsed
//! and normalised, stored with an acknowledgement after the commit) and the
//! use cases that read events back (search, one event, counts, the live
//! feed).

pub mod ingest;
pub mod live;
pub mod pipeline;
pub mod search;

//! Group commit: the pipeline's workers hand what a delivery produced
//! (its events, alerts and sightings) to one committer task, which writes
//! everything handed in while its previous commit ran in one transaction
//! per kind.
//!
//! Why: with `synchronous = FULL` every commit is an `fsync` of the
//! write-ahead log, and every page a commit touches is written whole
//! (16 KiB), however few rows changed on it. Workers committing their own
//! deliveries (a few hundred events each, a TCP read or an HTTP request)
//! made some 200 commits a second at 22,000 events a second, with the
//! writer waiting on the disk while the cores sat idle. Gathering the
//! deliveries that arrive during a commit into the next one makes commits
//! larger as the load grows, and adds no wait when the load is light (a
//! lone delivery is committed at once).
//!
//! Failure stays per delivery: when a gathered commit fails, each
//! delivery is committed again on its own, so one that the store refuses
//! does not fail the others (each gets its own answer, and a failed one
//! is nacked by its worker as before).

use std::sync::Arc;

use garrison_core::Timestamp;
use garrison_core::event::Event;
use garrison_core::indicator::Sighting;
use garrison_core::offense::NewAlert;
use garrison_store::{Store, StoreResult};
use tokio::sync::{mpsc, oneshot};

/// Events gathered into one commit at most (a single delivery larger
/// than this is still committed whole).
pub const MAX_COMMIT_EVENTS: usize = 20_000;

/// What one delivery hands to the committer.
pub struct Job {
    /// The delivery's groups of events, each stored and counted apart.
    pub groups: Vec<Vec<Event>>,
    pub alerts: Vec<NewAlert>,
    pub sightings: Vec<Sighting>,
    /// The delivery's clock reading (suppressions in force at it).
    pub now: Timestamp,
    /// The alert grouping window.
    pub window_ms: i64,
}

impl Job {
    fn events(&self) -> usize {
        self.groups.iter().map(Vec::len).sum()
    }
}

/// The answer: new rows per group (or the store's error), and the events
/// handed back.
pub type Answer = (StoreResult<Vec<u64>>, Vec<Vec<Event>>);

type Request = (Job, oneshot::Sender<Answer>);

/// The workers' handle on the committer task.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Request>,
}

impl Committer {
    /// Starts the committer task on the current runtime; it ends when the
    /// last handle is dropped.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(run(store, rx));
        Self { tx }
    }

    /// Commits `job` (with whatever else is handed in meanwhile) and
    /// returns the new rows per group.
    pub async fn commit(&self, job: Job) -> Answer {
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError((job, _))) = self.tx.send((job, reply)).await {
            return (Err(gone()), job.groups);
        }
        answer.await.unwrap_or_else(|_| (Err(gone()), Vec::new()))
    }
}

fn gone() -> garrison_store::StoreError {
    garrison_store::StoreError::Unavailable("the event committer has stopped".to_owned())
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Request>) {
    while let Some(first) = rx.recv().await {
        let mut events = first.0.events();
        let mut batch = vec![first];
        while events < MAX_COMMIT_EVENTS {
            match rx.try_recv() {
                Ok(r) => {
                    events += r.0.events();
                    batch.push(r);
                }
                Err(_) => break,
            }
        }
        if batch.len() > 1 {
            let jobs: Vec<&Job> = batch.iter().map(|(j, _)| j).collect();
            if let Ok(stored) = write(store.as_ref(), &jobs).await {
                let mut stored = stored.into_iter();
                for (job, reply) in batch {
                    let mine = stored.by_ref().take(job.groups.len()).collect();
                    // A worker gone (its task aborted) needs no answer.
                    let _ = reply.send((Ok(mine), job.groups));
                }
                continue;
            }
            // Something in the gathered commit was refused: each delivery
            // again on its own, so that only the culprit fails.
        }
        for (job, reply) in batch {
            let r = write(store.as_ref(), &[&job]).await;
            let _ = reply.send((r, job.groups));
        }
    }
}

/// Events (all groups in one transaction), then the alerts and sightings
/// they raised (each kind in one transaction).
async fn write(store: &dyn Store, jobs: &[&Job]) -> StoreResult<Vec<u64>> {
    let groups: Vec<&[Event]> = jobs
        .iter()
        .flat_map(|j| j.groups.iter().map(Vec::as_slice))
        .collect();
    let stored = store.insert_event_groups(&groups).await?;
    let Some(last) = jobs.last() else {
        return Ok(stored);
    };
    if jobs.iter().any(|j| !j.alerts.is_empty()) {
        let alerts: Vec<NewAlert> = jobs.iter().flat_map(|j| j.alerts.iter().cloned()).collect();
        let now = jobs.iter().map(|j| j.now).max().unwrap_or(last.now);
        store.record_alerts(&alerts, last.window_ms, now).await?;
    }
    if jobs.iter().any(|j| !j.sightings.is_empty()) {
        let sightings: Vec<Sighting> = jobs
            .iter()
            .flat_map(|j| j.sightings.iter().cloned())
            .collect();
        store.record_sightings(&sightings).await?;
    }
    Ok(stored)
}

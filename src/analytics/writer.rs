//! One task writes every event: requests hand their events over a bounded channel and, when
//! they need to, wait for the commit that holds them. Batching many events into one transaction
//! is what makes a durable commit per acknowledgement affordable.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Event, EventStore, StoreError};

/// Most events in one transaction.
const MAX_BATCH: usize = 512;
/// Events waiting for the writer before senders are made to wait (back-pressure).
const QUEUE: usize = 8192;
/// Attempts at a batch before its events are reported as not stored.
const ATTEMPTS: u32 = 3;

/// Why an event was not stored.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SinkError {
    /// The server is shutting down.
    #[error("the server is shutting down")]
    Closed,
    /// The database refused or could not be reached.
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Job {
    events: Vec<Event>,
    done: Option<oneshot::Sender<Result<(), SinkError>>>,
}

/// The sending side: cheap to clone, one per request handler.
#[derive(Clone)]
pub struct EventSink {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink").finish_non_exhaustive()
    }
}

impl EventSink {
    /// Starts the writer task on the current runtime. It ends once every sink is dropped and
    /// the queue is written: await the handle to flush on shutdown.
    pub fn start(store: EventStore) -> (EventSink, JoinHandle<()>) {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let task = tokio::spawn(write_loop(store, queue));
        (EventSink { jobs }, task)
    }

    /// Stores `events` and returns once they are committed: only then may a client be told so.
    pub async fn store(&self, events: Vec<Event>) -> Result<(), SinkError> {
        let (done, committed) = oneshot::channel();
        self.jobs
            .send(Job {
                events,
                done: Some(done),
            })
            .await
            .map_err(|_| SinkError::Closed)?;
        committed.await.map_err(|_| SinkError::Closed)?
    }

    /// Queues `events` without waiting for the commit (searches the server records as it
    /// answers them). They are still written before a graceful shutdown completes.
    pub async fn record(&self, events: Vec<Event>) {
        let _ = self.jobs.send(Job { events, done: None }).await;
    }
}

async fn write_loop(store: EventStore, mut queue: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::new();
    let mut events: Vec<Event> = Vec::new();
    while let Some(job) = queue.recv().await {
        batch.push(job);
        // Whatever else is already waiting goes into the same transaction.
        let mut count = batch[0].events.len();
        while count < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => {
                    count += job.events.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        events.clear();
        for job in &mut batch {
            events.append(&mut job.events);
        }
        let mut result = Ok(());
        for attempt in 0..ATTEMPTS {
            result = store.insert(&events).await;
            if result.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
        }
        if let Err(e) = &result {
            eprintln!("error: {e} ({} events not stored)", events.len());
        }
        for job in batch.drain(..) {
            if let Some(done) = job.done {
                let _ = done.send(result.clone().map_err(SinkError::from));
            }
        }
    }
}

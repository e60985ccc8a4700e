//! Group commit for intake on SQLite: requests that arrive while one batch is being
//! written go into the next transaction together, one statement per table, instead of
//! queueing for SQLite's single writer one by one. PostgreSQL writes concurrently and
//! takes each intake directly.

use doorstep_store::{Backend, NewRequest, RequestRecord, Store, StoreError, WriteCtx};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// The most intakes written in one transaction.
const MAX_BATCH: usize = 64;

struct Job {
    new: NewRequest,
    ctx: WriteCtx,
    reply: oneshot::Sender<Result<RequestRecord, StoreError>>,
}

/// The upper bounds of the batch-size histogram.
pub const BATCH_BUCKETS: [usize; 7] = [1, 2, 4, 8, 16, 32, MAX_BATCH];

/// What the queue has done since the server started (for `/metrics`).
#[derive(Debug, Default)]
pub struct IntakeStats {
    /// Intakes submitted and not yet answered.
    pub waiting: AtomicUsize,
    /// Batches written, per [`BATCH_BUCKETS`] bucket (cumulative counts are built when
    /// shown), with the sum of their sizes.
    pub batches: [AtomicU64; BATCH_BUCKETS.len()],
    pub batched: AtomicU64,
}

impl IntakeStats {
    fn record_batch(&self, size: usize) {
        let i = BATCH_BUCKETS
            .iter()
            .position(|b| size <= *b)
            .unwrap_or(BATCH_BUCKETS.len() - 1);
        self.batches[i].fetch_add(1, Ordering::Relaxed);
        self.batched.fetch_add(size as u64, Ordering::Relaxed);
    }
}

/// The queue in front of the store's intake (one per server).
#[derive(Default)]
pub(crate) struct IntakeQueue {
    tx: OnceLock<mpsc::UnboundedSender<Job>>,
    pub(crate) stats: Arc<IntakeStats>,
}

impl IntakeQueue {
    /// Stores a new request: batched with whatever else is waiting on SQLite, directly on
    /// PostgreSQL. The answer is the same as `RequestStore::create`'s.
    pub async fn submit(
        &self,
        store: &Store,
        new: NewRequest,
        ctx: WriteCtx,
    ) -> Result<RequestRecord, StoreError> {
        let stats = &self.stats;
        stats.waiting.fetch_add(1, Ordering::Relaxed);
        let answer = self.write(store, new, ctx).await;
        stats.waiting.fetch_sub(1, Ordering::Relaxed);
        answer
    }

    async fn write(
        &self,
        store: &Store,
        new: NewRequest,
        ctx: WriteCtx,
    ) -> Result<RequestRecord, StoreError> {
        if store.backend() == Backend::Postgres {
            self.stats.record_batch(1);
            return store.requests().create(&new, &ctx).await;
        }
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(writer(store.clone(), rx, self.stats.clone()));
            tx
        });
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the intake queue has stopped".into());
        tx.send(Job { new, ctx, reply }).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn writer(store: Store, mut rx: mpsc::UnboundedReceiver<Job>, stats: Arc<IntakeStats>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        stats.record_batch(jobs.len());
        let items: Vec<(&NewRequest, &WriteCtx)> = jobs.iter().map(|j| (&j.new, &j.ctx)).collect();
        match store.requests().create_batch(&items).await {
            Ok(records) => {
                for (job, r) in jobs.into_iter().zip(records) {
                    let _ = job.reply.send(Ok(r));
                }
            }
            // One bad intake (a tracking code drawn twice, a neighbourhood archived
            // meanwhile) fails the batch: write the rest one by one, so each gets its answer.
            Err(_) if jobs.len() > 1 => {
                for job in jobs {
                    let r = store.requests().create(&job.new, &job.ctx).await;
                    let _ = job.reply.send(r);
                }
            }
            Err(e) => {
                if let Some(job) = jobs.pop() {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
    }
}

//! Delivers tickets to the webhook of `[server] webhook`. A ticket's delivery is a row of the
//! `outbox` table, written with the ticket; this task POSTs each due row and marks it delivered
//! only when the receiver answers 2xx. Failures are retried with growing delays (1 s, 2 s, 4 s …
//! up to an hour), for as long as it takes: a receiver that is down loses nothing.
//!
//! Replicas sharing one PostgreSQL database each run this task. A row is claimed with a lease
//! before it is sent, so one replica sends it; a replica that dies mid-send leaves the lease to
//! expire and another sends it again. Delivery is therefore at least once: receivers can use
//! the ticket id (also in the `X-Helpbook-Ticket` header) to drop a repeat.

use std::sync::Arc;
use std::time::Duration;

use sqlx::Row;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::store::{EventStore, StoreError};

/// How long a claimed delivery is reserved for the replica that claimed it.
const LEASE_MS: i64 = 60_000;
/// How often the outbox is read when nothing wakes the task (deliveries due for a retry, and
/// tickets other replicas stored).
const POLL: Duration = Duration::from_secs(1);
/// Longest wait between two attempts.
const MAX_DELAY_MS: i64 = 3_600_000;
/// Deliveries sent per pass.
const BATCH: i64 = 20;

/// The webhook receiver.
#[derive(Debug, Clone)]
pub struct Webhook {
    url: String,
    agent: ureq::Agent,
}

impl Webhook {
    /// A client for `url` (`http://` or `https://`), with a 10-second limit per attempt.
    pub fn new(url: &str) -> Webhook {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build();
        Webhook {
            url: url.to_string(),
            agent: config.into(),
        }
    }

    /// POSTs one ticket; `Err` says what the receiver did instead of accepting it.
    pub fn send(&self, ticket: &str, payload: &str) -> Result<(), String> {
        let response = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header(
                "User-Agent",
                concat!("helpbook/", env!("CARGO_PKG_VERSION")),
            )
            .header("X-Helpbook-Ticket", ticket)
            .send(payload)
            .map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the webhook answered HTTP {}", status.as_u16()))
        }
    }
}

/// The running delivery task; [`Outbox::wake`] has it look at once instead of at its next poll.
#[derive(Debug, Clone)]
pub struct Outbox {
    wake: Arc<Notify>,
}

impl Outbox {
    /// Starts delivering the outbox of `store` to `webhook` on the current runtime.
    pub fn start(store: EventStore, webhook: Webhook) -> (Outbox, JoinHandle<()>) {
        let wake = Arc::new(Notify::new());
        let task = tokio::spawn(deliver_loop(store, Arc::new(webhook), wake.clone()));
        (Outbox { wake }, task)
    }

    /// A ticket was stored: deliver it now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The wait before attempt `attempts + 1`.
fn backoff_ms(attempts: i64) -> i64 {
    (1000_i64 << attempts.clamp(0, 30).saturating_sub(1)).min(MAX_DELAY_MS)
}

async fn deliver_loop(store: EventStore, webhook: Arc<Webhook>, wake: Arc<Notify>) {
    loop {
        if let Err(e) = deliver_due(&store, &webhook).await {
            eprintln!("warning: {e} (ticket deliveries will be retried)");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

async fn deliver_due(store: &EventStore, webhook: &Arc<Webhook>) -> Result<(), StoreError> {
    for due in store.due_deliveries(super::now_ms(), BATCH).await? {
        // Claimed one at a time, just before sending, so a lease is never older than a send.
        let lease = super::random_id();
        if !store
            .claim_delivery(due.id, super::now_ms(), &lease)
            .await?
        {
            continue;
        }
        let sender = webhook.clone();
        let (ticket, payload) = (due.ticket.clone(), due.payload);
        let sent = tokio::task::spawn_blocking(move || sender.send(&ticket, &payload))
            .await
            .unwrap_or_else(|_| Err("the delivery thread failed".into()));
        match sent {
            Ok(()) => store.delivered(due.id).await?,
            Err(why) => {
                let attempts = due.attempts + 1;
                let delay = backoff_ms(attempts);
                eprintln!(
                    "warning: ticket {} not delivered to the webhook (attempt {attempts}): {why}; next attempt in {} s",
                    due.ticket,
                    delay / 1000
                );
                store.delivery_failed(due.id, &lease, delay, &why).await?;
            }
        }
    }
    Ok(())
}

/// A delivery waiting in the outbox.
struct Due {
    id: i64,
    ticket: String,
    payload: String,
    attempts: i64,
}

impl EventStore {
    async fn due_deliveries(&self, now: i64, limit: i64) -> Result<Vec<Due>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, ticket, payload, attempts FROM outbox
             WHERE delivered_at IS NULL AND next_at <= $1
               AND (lease_until IS NULL OR lease_until < $1)
             ORDER BY next_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(&e))?;
        rows.iter()
            .map(|r| {
                Ok(Due {
                    id: r.try_get(0)?,
                    ticket: r.try_get(1)?,
                    payload: r.try_get(2)?,
                    attempts: r.try_get(3)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.error(&e))
    }

    /// Reserves a delivery for this replica under `lease`; false when another one holds it or
    /// sent it.
    async fn claim_delivery(&self, id: i64, now: i64, lease: &str) -> Result<bool, StoreError> {
        sqlx::query(
            "UPDATE outbox SET lease_until = $2, lease = $4
             WHERE id = $1 AND delivered_at IS NULL AND (lease_until IS NULL OR lease_until < $3)",
        )
        .bind(id)
        .bind(now + LEASE_MS)
        .bind(now)
        .bind(lease)
        .execute(self.pool())
        .await
        .map(|r| r.rows_affected() == 1)
        .map_err(|e| self.error(&e))
    }

    /// Marks a delivery sent, even when the lease ran out meanwhile: the receiver has the
    /// ticket either way, and the first success ends the retries.
    async fn delivered(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET delivered_at = $2, attempts = attempts + 1, lease_until = NULL,
               last_error = NULL WHERE id = $1 AND delivered_at IS NULL",
        )
        .bind(id)
        .bind(super::now_ms())
        .execute(self.pool())
        .await
        .map(|_| ())
        .map_err(|e| self.error(&e))
    }

    /// Schedules the next attempt, if this replica still holds the lease.
    async fn delivery_failed(
        &self,
        id: i64,
        lease: &str,
        delay_ms: i64,
        why: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, next_at = $2, lease_until = NULL,
               last_error = $3 WHERE id = $1 AND lease = $4 AND delivered_at IS NULL",
        )
        .bind(id)
        .bind(super::now_ms() + delay_ms)
        .bind(why)
        .bind(lease)
        .execute(self.pool())
        .await
        .map(|_| ())
        .map_err(|e| self.error(&e))
    }

    /// Tickets not yet accepted by the webhook, and when the oldest of them was filed.
    pub async fn undelivered(&self) -> Result<(i64, Option<i64>), StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*), MIN(created) FROM outbox WHERE delivered_at IS NULL")
                .fetch_one(self.pool())
                .await
                .map_err(|e| self.error(&e))?;
        let read = |e: sqlx::Error| self.error(&e);
        Ok((row.try_get(0).map_err(read)?, row.try_get(1).map_err(read)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(backoff_ms(1), 1000);
        assert_eq!(backoff_ms(2), 2000);
        assert_eq!(backoff_ms(5), 16_000);
        assert_eq!(backoff_ms(13), MAX_DELAY_MS);
        assert_eq!(backoff_ms(500), MAX_DELAY_MS);
    }
}

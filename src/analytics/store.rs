//! The event store: one schema, one set of statements, for SQLite and PostgreSQL through sqlx's
//! `Any` driver. The SQL is the dialect both accept (`$n` parameters, `BIGINT` columns,
//! `ON CONFLICT … DO UPDATE`); only the id column and the pragmas differ.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Row};

use super::{Event, EventKind};

/// A failure of the event store, worded for the operator; clients get [`StoreError::reason`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("event store {location}: {message}")]
pub struct StoreError {
    /// The file or the URL without its password.
    pub location: String,
    /// What went wrong.
    pub message: String,
    /// The kind of failure.
    pub problem: Problem,
}

/// What kind of failure a store error is: what a client is told, and whether it passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The disk holding the database (or the database's quota) is full. Passes once space is
    /// freed: nothing has to be restarted.
    Full,
    /// The database, or the disk it is on, is read-only. Passes once it is writable again.
    ReadOnly,
    /// The database cannot be reached, opened or written (network, I/O error, no free
    /// connection).
    Unavailable,
    /// Anything else: a constraint, a schema from a newer helpbook.
    Other,
}

impl StoreError {
    /// Why the store failed, in words fit for a client (no paths, no URLs).
    pub fn reason(&self) -> &'static str {
        match self.problem {
            Problem::Full => "the server's disk is full",
            Problem::ReadOnly => "the server's database is read-only",
            Problem::Unavailable => "the server cannot reach its database",
            Problem::Other => "the server's database refused them",
        }
    }
}

/// The kind of failure behind a sqlx error: SQLite's result code (its low byte is the primary
/// code), PostgreSQL's SQLSTATE, or the operating system's error number.
fn problem_of(e: &sqlx::Error) -> Problem {
    const ENOSPC: i32 = 28;
    const EROFS: i32 = 30;
    const EDQUOT: i32 = 122;
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if let Ok(sqlite) = code.parse::<i32>() {
                return match sqlite & 0xff {
                    13 => Problem::Full,             // SQLITE_FULL
                    8 => Problem::ReadOnly,          // SQLITE_READONLY and its extended codes
                    10 | 14 => Problem::Unavailable, // SQLITE_IOERR, SQLITE_CANTOPEN
                    _ => Problem::Other,
                };
            }
            match code.as_ref() {
                "53100" => Problem::Full,     // disk_full
                "25006" => Problem::ReadOnly, // read_only_sql_transaction
                c if c.starts_with("53") || c.starts_with("08") || c.starts_with("57P") => {
                    Problem::Unavailable
                }
                _ => Problem::Other,
            }
        }
        sqlx::Error::Io(io) => match io.raw_os_error() {
            Some(ENOSPC | EDQUOT) => Problem::Full,
            Some(EROFS) => Problem::ReadOnly,
            _ => Problem::Unavailable,
        },
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => Problem::Unavailable,
        _ => Problem::Other,
    }
}

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Sqlite,
    Postgres,
}

/// The events database.
#[derive(Debug, Clone)]
pub struct EventStore {
    pool: AnyPool,
    dialect: Dialect,
    location: String,
    /// Whether the schema is known to be up to date.
    schema: Arc<tokio::sync::OnceCell<()>>,
    /// Connections opened before this moment are closed instead of reused.
    retire: Arc<Mutex<Option<Instant>>>,
}

/// The guarded value, even if a thread panicked holding the lock (it is only ever assigned).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Schema changes, applied in order once each; the number of applied ones is kept in
/// `helpbook_schema`. `{id}` is the dialect's auto-numbered key.
const MIGRATIONS: &[&[&str]] = &[
    &[
        "CREATE TABLE events (
        id {id},
        at BIGINT NOT NULL,
        session TEXT NOT NULL,
        kind TEXT NOT NULL,
        search_id TEXT,
        query TEXT,
        normalized TEXT,
        results BIGINT,
        lang TEXT,
        filters TEXT,
        url TEXT,
        rank BIGINT,
        helpful BIGINT,
        reason TEXT,
        comment TEXT
    )",
        // One row per search-as-you-type session: its keystrokes update the row. Only searches:
        // a reader may open several results of one search.
        "CREATE UNIQUE INDEX events_search ON events (session, search_id) WHERE kind = 'search'",
        "CREATE INDEX events_at ON events (at)",
        "CREATE INDEX events_session ON events (session)",
    ],
    &[
        // Escalations, and their webhook deliveries: written in one transaction, so a ticket is
        // never stored without its delivery nor delivered without being stored.
        "CREATE TABLE tickets (
        id {id},
        ticket TEXT NOT NULL,
        at BIGINT NOT NULL,
        session TEXT NOT NULL,
        contact TEXT NOT NULL,
        description TEXT NOT NULL,
        url TEXT,
        priority TEXT NOT NULL,
        payload TEXT NOT NULL
    )",
        "CREATE UNIQUE INDEX tickets_ticket ON tickets (ticket)",
        "CREATE INDEX tickets_session ON tickets (session)",
        "CREATE INDEX tickets_at ON tickets (at)",
        "CREATE TABLE outbox (
        id {id},
        ticket TEXT NOT NULL,
        payload TEXT NOT NULL,
        created BIGINT NOT NULL,
        attempts BIGINT NOT NULL,
        next_at BIGINT NOT NULL,
        lease_until BIGINT,
        lease TEXT,
        delivered_at BIGINT,
        last_error TEXT
    )",
        "CREATE INDEX outbox_due ON outbox (next_at) WHERE delivered_at IS NULL",
        "CREATE INDEX outbox_ticket ON outbox (ticket)",
    ],
    &[
        // Triage trees: steps shown and what came of their fixes.
        "ALTER TABLE events ADD COLUMN tree TEXT",
        "ALTER TABLE events ADD COLUMN step TEXT",
        "ALTER TABLE events ADD COLUMN path TEXT",
        "ALTER TABLE events ADD COLUMN outcome TEXT",
        "ALTER TABLE events ADD COLUMN outage BIGINT",
        "CREATE INDEX events_outage ON events (at) WHERE kind = 'triage' AND outage = 1",
    ],
];

impl EventStore {
    /// Opens (creating when needed) the store at `location`: a `postgres://` URL or a SQLite
    /// file path, and brings its schema up to date.
    pub async fn open(location: &str) -> Result<EventStore, StoreError> {
        let store = EventStore::connect(location)?;
        store.ready().await?;
        Ok(store)
    }

    /// Opens the store for a server, which goes on serving pages and searches while its
    /// database is full, read-only or out of reach: such a failure comes back beside the
    /// store (every write is refused with it until the database recovers; nothing needs a
    /// restart). Any other failure — a wrong password, a schema from a newer helpbook — is an
    /// error.
    pub async fn open_for_server(
        location: &str,
    ) -> Result<(EventStore, Option<StoreError>), StoreError> {
        let store = EventStore::connect(location)?;
        match store.ready().await {
            Ok(()) => Ok((store, None)),
            Err(e) if e.problem != Problem::Other => Ok((store, Some(e))),
            Err(e) => Err(e),
        }
    }

    /// The pool, connecting lazily: nothing is opened until the first query.
    fn connect(location: &str) -> Result<EventStore, StoreError> {
        install_default_drivers();
        let postgres = location.starts_with("postgres://") || location.starts_with("postgresql://");
        let shown = if postgres {
            hide_password(location)
        } else {
            location.to_string()
        };
        let fail = |message: String, problem: Problem| StoreError {
            location: shown.clone(),
            message,
            problem,
        };
        let (url, dialect) = if postgres {
            (location.to_string(), Dialect::Postgres)
        } else {
            let path = std::path::Path::new(location);
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    let problem = match e.kind() {
                        std::io::ErrorKind::StorageFull => Problem::Full,
                        std::io::ErrorKind::ReadOnlyFilesystem => Problem::ReadOnly,
                        _ => Problem::Unavailable,
                    };
                    fail(format!("cannot create {}: {e}", parent.display()), problem)
                })?;
            }
            (
                format!("sqlite://{}?mode=rwc", encode_path(location)),
                Dialect::Sqlite,
            )
        };
        let retire = Arc::new(Mutex::new(None::<Instant>));
        let options = AnyPoolOptions::new()
            .max_connections(if dialect == Dialect::Sqlite { 4 } else { 8 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // WAL: readers never block the writer. FULL: a commit is on disk before
                        // the event is acknowledged, even if the machine loses power.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .before_acquire({
                let retire = retire.clone();
                move |_, meta| {
                    let opened = Instant::now().checked_sub(meta.age);
                    let keep = match (*lock(&retire), opened) {
                        (Some(failed), Some(opened)) => opened > failed,
                        _ => true,
                    };
                    Box::pin(async move { Ok(keep) })
                }
            });
        let pool = options
            .connect_lazy(&url)
            .map_err(|e| fail(describe(&e), problem_of(&e)))?;
        Ok(EventStore {
            pool,
            dialect,
            location: shown,
            schema: Arc::new(tokio::sync::OnceCell::new()),
            retire,
        })
    }

    /// Brings the schema up to date, once: a server that started while its database was out
    /// of reach does it before its first write.
    pub(super) async fn ready(&self) -> Result<(), StoreError> {
        self.schema.get_or_try_init(|| self.migrate()).await?;
        Ok(())
    }

    pub(super) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// `e` for the operator and the client. A read-only or unreachable database also retires
    /// the connections opened before it: SQLite opens a file it may not write read-only, and
    /// such a connection stays read-only after the file is writable again.
    pub(super) fn error(&self, e: &sqlx::Error) -> StoreError {
        let problem = problem_of(e);
        if matches!(problem, Problem::ReadOnly | Problem::Unavailable) {
            *lock(&self.retire) = Some(Instant::now());
        }
        StoreError {
            location: self.location.clone(),
            message: describe(e),
            problem,
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let err = |e: sqlx::Error| self.error(&e);
        let mut tx = self.pool.begin().await.map_err(err)?;
        if self.dialect == Dialect::Postgres {
            // Replicas starting together: one migrates, the others wait for it.
            tx.execute("SELECT pg_advisory_xact_lock(7283910)")
                .await
                .map_err(err)?;
        }
        tx.execute("CREATE TABLE IF NOT EXISTS helpbook_schema (version BIGINT NOT NULL)")
            .await
            .map_err(err)?;
        let version: Option<i64> = sqlx::query("SELECT MAX(version) FROM helpbook_schema")
            .fetch_one(&mut *tx)
            .await
            .map_err(err)?
            .try_get(0)
            .map_err(err)?;
        let version = version.unwrap_or(0) as usize;
        if version > MIGRATIONS.len() {
            return Err(StoreError {
                location: self.location.clone(),
                message: format!(
                    "the database was written by a newer helpbook (schema {version}, this one knows {})",
                    MIGRATIONS.len()
                ),
                problem: Problem::Other,
            });
        }
        let id = match self.dialect {
            Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
        };
        for (n, steps) in MIGRATIONS.iter().enumerate().skip(version) {
            for step in *steps {
                tx.execute(step.replace("{id}", id).as_str())
                    .await
                    .map_err(err)?;
            }
            sqlx::query("INSERT INTO helpbook_schema (version) VALUES ($1)")
                .bind((n + 1) as i64)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }

    /// Stores `events` in one transaction: all of them or none.
    pub async fn insert(&self, events: &[Event]) -> Result<(), StoreError> {
        let mut conn = self.write_connection().await?;
        let written = insert_on(&mut conn, events).await;
        self.written(conn, written)
    }

    /// A connection for a write transaction, the schema brought up to date first.
    pub(super) async fn write_connection(&self) -> Result<PoolConnection<Any>, StoreError> {
        self.ready().await?;
        self.pool.acquire().await.map_err(|e| self.error(&e))
    }

    /// The outcome of a write on `conn`. A connection whose write failed is closed rather than
    /// reused: SQLite rolls a transaction back by itself on some errors (a full disk among
    /// them), after which the driver's idea of the connection's transaction is wrong, and a
    /// later commit on it would be acknowledged without being written.
    pub(super) fn written<T>(
        &self,
        mut conn: PoolConnection<Any>,
        written: Result<T, sqlx::Error>,
    ) -> Result<T, StoreError> {
        written.map_err(|e| {
            conn.close_on_drop();
            self.error(&e)
        })
    }

    /// Readers (sessions) who gave a triage answer signalling an outage since `since` (ms):
    /// in all, and by tree, most first.
    pub async fn outage_readers(
        &self,
        since: i64,
    ) -> Result<(i64, Vec<(String, i64)>), StoreError> {
        let err = |e: sqlx::Error| self.error(&e);
        let total: i64 = sqlx::query(
            "SELECT COUNT(DISTINCT session) FROM events
             WHERE kind = 'triage' AND outage = 1 AND at >= $1",
        )
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(err)?;
        let rows = sqlx::query(
            "SELECT tree, COUNT(DISTINCT session) AS readers FROM events
             WHERE kind = 'triage' AND outage = 1 AND at >= $1
             GROUP BY tree ORDER BY readers DESC, tree",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        let trees = rows
            .iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(err)?;
        Ok((total, trees))
    }

    /// Number of stored events of `kind` in `session` (for tests and health checks).
    pub async fn count(&self, session: &str, kind: &str) -> Result<i64, StoreError> {
        sqlx::query("SELECT COUNT(*) FROM events WHERE session = $1 AND kind = $2")
            .bind(session)
            .bind(kind)
            .fetch_one(&self.pool)
            .await
            .and_then(|row| row.try_get::<i64, _>(0))
            .map_err(|e| self.error(&e))
    }

    /// The stored searches of `session`: (search id, query, normalised query, results).
    pub async fn searches(
        &self,
        session: &str,
    ) -> Result<Vec<(String, String, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT search_id, query, normalized, results FROM events
             WHERE session = $1 AND kind = 'search' ORDER BY at, id",
        )
        .bind(session)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error(&e))?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.error(&e))
    }

    /// Deletes events and tickets older than `days` days (a ticket still waiting for its
    /// webhook is kept until it is delivered); returns how many events went.
    pub async fn purge(&self, days: u32) -> Result<u64, StoreError> {
        let cutoff = super::now_ms() - i64::from(days) * 86_400_000;
        let err = |e: sqlx::Error| self.error(&e);
        let mut tx = self.pool.begin().await.map_err(err)?;
        let events = sqlx::query("DELETE FROM events WHERE at < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        sqlx::query(
            "DELETE FROM tickets WHERE at < $1 AND NOT EXISTS (
               SELECT 1 FROM outbox o WHERE o.ticket = tickets.ticket AND o.delivered_at IS NULL)",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        sqlx::query("DELETE FROM outbox WHERE created < $1 AND delivered_at IS NOT NULL")
            .bind(cutoff)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok(events)
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Writes `events` in one transaction on `conn`.
async fn insert_on(conn: &mut AnyConnection, events: &[Event]) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    for event in events {
        let q = match &event.kind {
            EventKind::Search {
                search_id,
                query,
                normalized,
                results,
                lang,
                filters,
            } => sqlx::query(
                "INSERT INTO events (at, session, kind, search_id, query, normalized, results, lang, filters)
                 VALUES ($1, $2, 'search', $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (session, search_id) WHERE kind = 'search' DO UPDATE SET
                   at = excluded.at, query = excluded.query, normalized = excluded.normalized,
                   results = excluded.results, lang = excluded.lang, filters = excluded.filters",
            )
            .bind(event.at)
            .bind(event.session.as_str())
            .bind(search_id.as_str())
            .bind(query.as_str())
            .bind(normalized.as_str())
            .bind(*results)
            .bind(lang.as_str())
            .bind(filters.as_str()),
            EventKind::Click {
                search_id,
                url,
                rank,
            } => sqlx::query(
                "INSERT INTO events (at, session, kind, search_id, url, rank)
                 VALUES ($1, $2, 'click', $3, $4, $5)",
            )
            .bind(event.at)
            .bind(event.session.as_str())
            .bind(search_id.as_str())
            .bind(url.as_str())
            .bind(*rank),
            EventKind::View { url } => sqlx::query(
                "INSERT INTO events (at, session, kind, url) VALUES ($1, $2, 'view', $3)",
            )
            .bind(event.at)
            .bind(event.session.as_str())
            .bind(url.as_str()),
            EventKind::Feedback {
                url,
                helpful,
                reason,
                comment,
            } => sqlx::query(
                "INSERT INTO events (at, session, kind, url, helpful, reason, comment)
                 VALUES ($1, $2, 'feedback', $3, $4, $5, $6)",
            )
            .bind(event.at)
            .bind(event.session.as_str())
            .bind(url.as_str())
            .bind(i64::from(*helpful))
            .bind(reason.map(|r| r.as_str()))
            .bind(comment.as_deref()),
            EventKind::Triage {
                tree,
                step,
                path,
                outcome,
                outage,
                url,
            } => sqlx::query(
                "INSERT INTO events (at, session, kind, url, tree, step, path, outcome, outage)
                 VALUES ($1, $2, 'triage', $3, $4, $5, $6, $7, $8)",
            )
            .bind(event.at)
            .bind(event.session.as_str())
            .bind(url.as_str())
            .bind(tree.as_str())
            .bind(step.as_str())
            .bind(path.as_str())
            .bind(outcome.map(|o| o.as_str()))
            .bind(i64::from(*outage)),
        };
        q.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// A database error in a sentence, without the URL.
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => format!("database error: {}", db.message()),
        sqlx::Error::Io(io) => format!("cannot reach the database: {io}"),
        sqlx::Error::PoolTimedOut => "no database connection became free in time".into(),
        other => other.to_string(),
    }
}

/// A store location fit to print: `postgres://user:secret@host/db` -> `postgres://user:***@host/db`.
pub fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((creds, host)) => match creds.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// A file path in a `sqlite://` URL: the characters a URL gives meaning to are escaped.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            hide_password("postgres://hb:s3cret@127.0.0.1:5432/hb"),
            "postgres://hb:***@127.0.0.1:5432/hb"
        );
        assert_eq!(
            hide_password("postgres://127.0.0.1/hb"),
            "postgres://127.0.0.1/hb"
        );
    }
}

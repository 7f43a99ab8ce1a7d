//! Escalation: a reader who is still stuck files a ticket, and the ticket carries what they
//! already tried (the session's searches, the results they opened, the pages they read, the
//! feedback they gave), so nobody asks them again. A ticket and its webhook delivery are written
//! in one transaction (the outbox), and the [`super::outbox`] task delivers it until the
//! receiver accepts it.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::{AnyConnection, Connection};

use super::store::{EventStore, StoreError};
use super::{check_id, scrub};

/// Longest contact accepted, in characters.
pub const MAX_CONTACT: usize = 200;
/// Longest description accepted, in characters. With the 8 KB body limit this leaves room for
/// Chinese text in JSON (3 bytes a character); a form posted without JavaScript encodes each
/// Chinese character in 9 bytes, so there about 880 fit.
pub const MAX_DESCRIPTION: usize = 2000;
/// Most entries of each kind attached from the session.
const CONTEXT_LIMIT: i64 = 50;

/// How soon support should answer, from the severity of the page the reader was on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// The class cannot go on (an `urgent` troubleshooting page).
    Urgent,
    /// The class is badly disturbed (`high`).
    High,
    /// Everything else.
    Normal,
}

impl Priority {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
        }
    }

    /// The priority of a ticket filed from a page of `severity` (none: `normal`).
    pub fn from_severity(severity: Option<crate::content::Urgency>) -> Priority {
        use crate::content::Urgency;
        match severity {
            Some(Urgency::Urgent) => Priority::Urgent,
            Some(Urgency::High) => Priority::High,
            _ => Priority::Normal,
        }
    }
}

/// A ticket as the "Still stuck?" form sends it (JSON, or form fields without JavaScript).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    /// The tab's session id; without one, the ticket has no history attached.
    #[serde(default)]
    pub session: Option<String>,
    /// How to reach the reader (e-mail address, phone, name and class).
    #[serde(default)]
    pub contact: String,
    /// What is wrong, in the reader's words.
    #[serde(default)]
    pub description: String,
    /// The page the form was on (`/troubleshooting/echo.html`).
    #[serde(default)]
    pub url: Option<String>,
    /// The query in the box, when the form was on the search page.
    #[serde(default)]
    pub query: Option<String>,
    /// The triage tree the form was filed from.
    #[serde(default)]
    pub triage_tree: Option<String>,
    /// The answers given in that tree (`node/option` ids joined by `,`).
    #[serde(default)]
    pub triage_path: Option<String>,
}

/// A checked ticket request.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    /// The session id (a fresh one when the form had none).
    pub session: String,
    /// How to reach the reader.
    pub contact: String,
    /// What is wrong.
    pub description: String,
    /// The page path, without query or fragment.
    pub url: Option<String>,
    /// The query in the search box, scrubbed.
    pub query: Option<String>,
    /// The triage tree and the answers given in it (checked against the site's trees by the
    /// server).
    pub triage: Option<(String, String)>,
}

impl TicketRequest {
    /// Checks the fields; the error names the field and the fix.
    pub fn validate(self) -> Result<NewTicket, String> {
        let session = match self.session.filter(|s| !s.is_empty()) {
            Some(s) => {
                check_id("session", &s)?;
                s
            }
            None => super::random_id(),
        };
        let contact = super::clean_text(self.contact.trim(), false);
        if contact.is_empty() {
            return Err(
                "contact is empty: say how support can reach you (an e-mail address)".into(),
            );
        }
        if contact.chars().count() > MAX_CONTACT || contact.contains(['\n', '\r']) {
            return Err(format!(
                "contact must be one line of at most {MAX_CONTACT} characters"
            ));
        }
        let description = super::clean_text(self.description.trim(), true)
            .trim()
            .to_string();
        if description.is_empty() {
            return Err("description is empty: say what went wrong and what you tried".into());
        }
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(format!(
                "description is longer than {MAX_DESCRIPTION} characters; shorten it"
            ));
        }
        let url = match self
            .url
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
        {
            None => None,
            Some(u) => {
                let url = super::check_url(u)?;
                Some(url.split('#').next().unwrap_or_default().to_string())
            }
        };
        let query = self
            .query
            .map(|q| scrub(super::clean_text(q.trim(), false).trim()))
            .filter(|q| !q.is_empty())
            .map(|q| q.chars().take(200).collect());
        let triage = match (self.triage_tree, self.triage_path) {
            (Some(tree), path) if !tree.trim().is_empty() => {
                Some((tree.trim().to_string(), path.unwrap_or_default()))
            }
            (_, Some(path)) if !path.trim().is_empty() => {
                return Err("triage_path needs triage_tree: the tree the answers belong to".into());
            }
            _ => None,
        };
        Ok(NewTicket {
            session,
            contact,
            description,
            url,
            query,
            triage,
        })
    }

    /// A request from form fields (the form posted without JavaScript). Fields it does not know
    /// (a named button, a field a theme added) are ignored rather than refused.
    pub fn from_form(body: &str) -> Result<TicketRequest, String> {
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_str(body).map_err(|e| format!("the form is not valid: {e}"))?;
        let mut request = TicketRequest::default();
        for (name, value) in fields {
            match name.as_str() {
                "session" => request.session = Some(value),
                "contact" => request.contact = value,
                "description" => request.description = value,
                "url" => request.url = Some(value),
                "query" => request.query = Some(value),
                "triage_tree" => request.triage_tree = Some(value),
                "triage_path" => request.triage_path = Some(value),
                _ => {}
            }
        }
        Ok(request)
    }
}

/// What the reader tried before filing, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionContext {
    /// Their searches, each with the results they opened.
    pub searches: Vec<TriedSearch>,
    /// Pages they opened.
    pub views: Vec<TriedView>,
    /// "Did this help?" answers they gave.
    pub feedback: Vec<GivenFeedback>,
}

/// A search of the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriedSearch {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The query, scrubbed.
    pub query: String,
    /// Pages found.
    pub results: i64,
    /// Results opened from it, in order.
    pub opened: Vec<String>,
}

/// A page the session opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriedView {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The page.
    pub url: String,
}

/// A "Did this help?" answer of the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GivenFeedback {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The page.
    pub url: String,
    /// The answer.
    pub helpful: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The reader's words, scrubbed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// The page a ticket was filed from, as the build described it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketPage {
    /// Its path.
    pub url: String,
    /// Its title (empty when the page is not in the build).
    pub title: String,
    /// The version of the page the reader saw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Its `updated` date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// Its severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
}

/// A stored ticket: the body of the webhook POST, and what `/admin` lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// The id the reader is shown (`HB-7Q4K2M9X`).
    pub id: String,
    /// When it was filed (RFC 3339, UTC).
    pub created_at: String,
    /// Derived from the page's severity.
    pub priority: Priority,
    /// How to reach the reader.
    pub contact: String,
    /// What is wrong.
    pub description: String,
    /// The page the form was on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<TicketPage>,
    /// The query in the search box, when filed from the search page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The reader's session id.
    pub session: String,
    /// What they tried.
    pub tried: SessionContext,
    /// The triage tree they were in, with the answers they gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<TicketTriage>,
}

/// The triage tree a ticket was filed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketTriage {
    /// The tree's id.
    pub tree: String,
    /// Its title.
    pub title: String,
    /// The questions asked and the answers given, first first.
    pub answers: Vec<TriageAnswer>,
}

/// One answer given in a triage tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageAnswer {
    /// The question.
    pub question: String,
    /// The answer.
    pub answer: String,
    /// `node/option`.
    pub step: String,
}

/// A ticket id: `HB-` and 8 characters that cannot be misread (no 0/O, 1/I/L, U).
pub fn ticket_id() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bits = u64::from_str_radix(&super::random_id()[4..], 16).unwrap_or(0);
    let mut id = String::from("HB-");
    for _ in 0..8 {
        id.push(ALPHABET[(bits % ALPHABET.len() as u64) as usize] as char);
        bits /= ALPHABET.len() as u64;
    }
    id
}

/// Milliseconds since the epoch as RFC 3339 in UTC (`2026-11-21T09:30:00Z`).
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = crate::content::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl EventStore {
    /// What `session` did, oldest first (at most 50 of each).
    pub async fn session_context(&self, session: &str) -> Result<SessionContext, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, at, search_id, query, results, url, helpful, reason, comment
             FROM events WHERE session = $1 ORDER BY at DESC, id DESC LIMIT 1000",
        )
        .bind(session)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(&e))?;
        // The newest 1,000 events, oldest first: a session is one browser tab, so this is all of
        // it unless a script flooded it.
        let rows: Vec<_> = rows.into_iter().rev().collect();
        let mut context = SessionContext::default();
        let mut search_ids: Vec<String> = Vec::new();
        let read = |e: sqlx::Error| self.error(&e);
        for row in &rows {
            let kind: String = row.try_get(0).map_err(read)?;
            let at = rfc3339(row.try_get(1).map_err(read)?);
            match kind.as_str() {
                "search" => {
                    search_ids.push(row.try_get(2).map_err(read)?);
                    context.searches.push(TriedSearch {
                        at,
                        query: row.try_get(3).map_err(read)?,
                        results: row.try_get(4).map_err(read)?,
                        opened: Vec::new(),
                    });
                }
                "click" => {
                    let search_id: String = row.try_get(2).map_err(read)?;
                    let url: String = row.try_get(5).map_err(read)?;
                    if let Some(i) = search_ids.iter().rposition(|s| *s == search_id) {
                        context.searches[i].opened.push(url);
                    }
                }
                "view" => context.views.push(TriedView {
                    at,
                    url: row.try_get(5).map_err(read)?,
                }),
                "feedback" => context.feedback.push(GivenFeedback {
                    at,
                    url: row.try_get(5).map_err(read)?,
                    helpful: row.try_get::<i64, _>(6).map_err(read)? != 0,
                    reason: row.try_get(7).map_err(read)?,
                    comment: row.try_get(8).map_err(read)?,
                }),
                _ => {}
            }
        }
        let keep_last = |n: usize| n.saturating_sub(CONTEXT_LIMIT as usize);
        context.searches.drain(..keep_last(context.searches.len()));
        context.views.drain(..keep_last(context.views.len()));
        context.feedback.drain(..keep_last(context.feedback.len()));
        Ok(context)
    }

    /// Stores `ticket` filed at `at`, with a delivery waiting in the outbox when `deliver`.
    /// Both or neither are written. `Ok(false)`: a ticket with this id exists (draw another).
    pub async fn insert_ticket(
        &self,
        ticket: &Ticket,
        at: i64,
        deliver: bool,
    ) -> Result<bool, StoreError> {
        let payload = serde_json::to_string(ticket).expect("a ticket serialises");
        let mut conn = self.write_connection().await?;
        let written = insert_ticket_on(&mut conn, ticket, &payload, at, deliver).await;
        self.written(conn, written)
    }

    /// The newest tickets, newest first.
    pub async fn recent_tickets(&self, limit: i64) -> Result<Vec<StoredTicket>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.payload, o.delivered_at, o.attempts, o.last_error, o.id
             FROM tickets t LEFT JOIN outbox o ON o.ticket = t.ticket
             ORDER BY t.at DESC, t.id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.error(&e))?;
        let read = |e: sqlx::Error| self.error(&e);
        let mut tickets = Vec::new();
        for row in &rows {
            let payload: String = row.try_get(0).map_err(read)?;
            let Ok(ticket) = serde_json::from_str::<Ticket>(&payload) else {
                continue;
            };
            let queued: Option<i64> = row.try_get(4).map_err(read)?;
            let delivered: Option<i64> = row.try_get(1).map_err(read)?;
            tickets.push(StoredTicket {
                ticket,
                delivery: match (queued, delivered) {
                    (None, _) => Delivery::NotSent,
                    (Some(_), Some(at)) => Delivery::Delivered { at: rfc3339(at) },
                    (Some(_), None) => Delivery::Pending {
                        attempts: row.try_get(2).map_err(read)?,
                        last_error: row.try_get(3).map_err(read)?,
                    },
                },
            });
        }
        Ok(tickets)
    }
}

/// A ticket with how its delivery went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredTicket {
    /// The ticket.
    #[serde(flatten)]
    pub ticket: Ticket,
    /// Where its webhook delivery stands.
    pub delivery: Delivery,
}

/// Where a ticket's webhook delivery stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Delivery {
    /// No webhook was configured when it was filed.
    NotSent,
    /// The receiver accepted it.
    Delivered {
        /// When.
        at: String,
    },
    /// Not yet accepted; being retried.
    Pending {
        /// Attempts so far.
        attempts: i64,
        /// What the last attempt met.
        last_error: Option<String>,
    },
}

/// Writes `ticket` (and its delivery when `deliver`) in one transaction on `conn`; `Ok(false)`
/// when its id is taken.
async fn insert_ticket_on(
    conn: &mut AnyConnection,
    ticket: &Ticket,
    payload: &str,
    at: i64,
    deliver: bool,
) -> Result<bool, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO tickets (ticket, at, session, contact, description, url, priority, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(ticket.id.as_str())
    .bind(at)
    .bind(ticket.session.as_str())
    .bind(ticket.contact.as_str())
    .bind(ticket.description.as_str())
    .bind(ticket.page.as_ref().map(|p| p.url.as_str()))
    .bind(ticket.priority.as_str())
    .bind(payload)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(false),
        Err(e) => return Err(e),
    }
    if deliver {
        sqlx::query(
            "INSERT INTO outbox (ticket, payload, created, attempts, next_at)
             VALUES ($1, $2, $3, 0, $3)",
        )
        .bind(ticket.id.as_str())
        .bind(payload)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_253_400_000), "2026-11-21T09:30:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn ticket_ids_are_unambiguous_and_distinct() {
        let a = ticket_id();
        let b = ticket_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 11);
        assert!(a.starts_with("HB-"));
        assert!(!a[3..].contains(['0', '1', 'O', 'I', 'L', 'U']));
    }

    #[test]
    fn ticket_requests_are_checked() {
        let ok = TicketRequest {
            session: Some("tab-12345678".into()),
            contact: " ann@school.edu ".into(),
            description: "Students hear an echo".into(),
            url: Some("/troubleshooting/echo.html#steps".into()),
            query: Some("echo 0123456789".into()),
            ..TicketRequest::default()
        };
        let t = ok.clone().validate().unwrap();
        assert_eq!(t.contact, "ann@school.edu");
        assert_eq!(t.url.as_deref(), Some("/troubleshooting/echo.html"));
        assert_eq!(t.query.as_deref(), Some("echo [number]"));
        let empty = TicketRequest {
            description: " ".into(),
            ..ok.clone()
        };
        assert!(empty.validate().unwrap_err().contains("description"));
        let offsite = TicketRequest {
            url: Some("https://evil.example/".into()),
            ..ok.clone()
        };
        assert!(offsite.validate().unwrap_err().contains("url"));
        let anonymous = TicketRequest {
            session: None,
            ..ok
        };
        assert!(anonymous.validate().unwrap().session.starts_with("srv-"));
    }
}

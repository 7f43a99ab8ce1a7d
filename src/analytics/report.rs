//! The gap report: what readers could not find, which pages did not help, and how often the
//! help center settled a question without a ticket. `helpbook gaps` prints it, `/admin` shows
//! it.
//!
//! **Unresolved search.** A search (one row per search-as-you-type session) is unresolved when
//! it found nothing; or no result of it was opened; or a result was opened and the reader then
//! said that page did not help, or filed a ticket. Each unresolved search gets one reason, the
//! first that applies in that order: `no_results`, `not_opened`, `escalated`, `unhelpful`.
//!
//! **Self-service score** = resolved ÷ (resolved + escalated).
//! - For the site, over sessions (browser tabs) that searched, read a page or filed a ticket:
//!   escalated when the session filed a ticket, resolved when it did not and gave no "did not
//!   help" answer. (A session that only said a page did not help is in neither.)
//! - For a page, over visits (a session's views of it): escalated when the session filed a
//!   ticket after opening the page, resolved when it did not and did not mark the page
//!   unhelpful. A visit marked unhelpful without a ticket is in neither; such pages are listed
//!   under "pages that did not help", and a page whose visits are all of that kind has no
//!   score and is listed first.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use sqlx::Row;

use super::store::{EventStore, StoreError};
use crate::content::PageMeta;
use crate::search::{SearchIndex, SearchRequest};

/// Comments kept per page in the report.
const COMMENTS_PER_PAGE: usize = 3;
/// Most points of a trend line.
const TREND_POINTS: i64 = 30;

/// The period a report covers, in milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Start (inclusive).
    pub from: i64,
    /// End (exclusive).
    pub until: i64,
}

impl Period {
    /// The `span` (as `--since` takes it) up to `now`.
    pub fn parse(span: &str, now: i64) -> Result<Period, String> {
        let s = span.trim();
        let bad = || {
            format!(
                "`{s}` is not a period: write a number of days, weeks or hours (`30d`, `2w`, `12h`) or a date (`2026-11-01`)"
            )
        };
        if let Some(date) = crate::content::Date::parse(s) {
            let from = date.days_since_epoch() * 86_400_000;
            if from >= now {
                return Err(format!("`{s}` is in the future"));
            }
            return Ok(Period { from, until: now });
        }
        let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
        let n: i64 = number.parse().map_err(|_| bad())?;
        let hour = 3_600_000;
        let per = match unit {
            "" | "d" | "day" | "days" => 24 * hour,
            "w" | "week" | "weeks" => 7 * 24 * hour,
            "h" | "hour" | "hours" => hour,
            _ => return Err(bad()),
        };
        if n == 0 || n > 3650 {
            return Err(format!("`{s}` must be from 1 to 3650 {unit}"));
        }
        Ok(Period {
            from: now - n * per,
            until: now,
        })
    }
}

/// Why a search went unresolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unresolved {
    /// It found nothing.
    NoResults,
    /// No result was opened.
    NotOpened,
    /// A result was opened, then a ticket filed.
    Escalated,
    /// A result was opened and marked "did not help".
    Unhelpful,
}

impl Unresolved {
    /// The reason in a few words, for tables.
    pub fn label(self) -> &'static str {
        match self {
            Unresolved::NoResults => "no results",
            Unresolved::NotOpened => "no result opened",
            Unresolved::Escalated => "ticket filed",
            Unresolved::Unhelpful => "page did not help",
        }
    }

    /// Every reason, in the order they are tested.
    pub const ALL: [Unresolved; 4] = [
        Unresolved::NoResults,
        Unresolved::NotOpened,
        Unresolved::Escalated,
        Unresolved::Unhelpful,
    ];
}

/// A self-service score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Score {
    /// Settled without a ticket.
    pub resolved: i64,
    /// Ended in a ticket.
    pub escalated: i64,
    /// resolved ÷ (resolved + escalated); none without either.
    pub score: Option<f64>,
}

impl Score {
    /// The score as a whole percentage (`92 %`), or `–` without one.
    pub fn percent(&self) -> String {
        self.score
            .map_or("–".to_string(), |s| format!("{:.0} %", s * 100.0))
    }

    fn new(resolved: i64, escalated: i64) -> Score {
        let total = resolved + escalated;
        Score {
            resolved,
            escalated,
            score: (total > 0).then(|| resolved as f64 / total as f64),
        }
    }
}

/// Unresolved searches of one normalised query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryGap {
    /// The normalised form the searches share.
    pub normalized: String,
    /// The query as readers typed it most often.
    pub example: String,
    /// Unresolved searches.
    pub unresolved: i64,
    /// Sessions with an unresolved search of it.
    pub sessions: i64,
    /// All searches of it, resolved or not.
    pub searches: i64,
    /// Unresolved searches by reason.
    pub reasons: Vec<(Unresolved, i64)>,
    /// Unresolved searches per interval of the period, oldest first.
    pub trend: Vec<i64>,
    /// The page the search now ranks first, if any: where an answer may belong.
    pub closest: Option<ClosestPage>,
}

/// A page found for a query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClosestPage {
    /// Its title.
    pub title: String,
    /// Its URL path and section anchor.
    pub url: String,
}

/// "Did this help?" answers of one page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageVotes {
    /// The page.
    pub url: String,
    /// Its title, when the build knows it.
    pub title: String,
    /// "No" answers.
    pub unhelpful: i64,
    /// "Yes" answers.
    pub helpful: i64,
    /// "No" answers by reason (`outdated`, `unclear`, `didnt_fix`, `other`, `none`).
    pub reasons: Vec<(String, i64)>,
    /// The newest comments.
    pub comments: Vec<String>,
}

/// The self-service score of one page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageScore {
    /// The page.
    pub url: String,
    /// Its title, when the build knows it.
    pub title: String,
    /// Visits (sessions that opened it).
    pub visits: i64,
    /// Its score over those visits.
    #[serde(flatten)]
    pub score: Score,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapReport {
    /// Start of the period (RFC 3339).
    pub from: String,
    /// End of the period (RFC 3339).
    pub until: String,
    /// Length of one trend interval, in hours.
    pub trend_hours: i64,
    /// Searches in the period.
    pub searches: i64,
    /// Of which unresolved.
    pub unresolved: i64,
    /// Tickets filed in the period.
    pub tickets: i64,
    /// The site's self-service score.
    pub site: Score,
    /// Unresolved queries, most unresolved first.
    pub queries: Vec<QueryGap>,
    /// Pages with "did not help" answers, most first.
    pub pages: Vec<PageVotes>,
    /// Pages by self-service score, lowest first (pages with escalations first).
    pub page_scores: Vec<PageScore>,
    /// The triage trees used in the period, most readers first.
    pub trees: Vec<super::TreeReport>,
}

struct SearchRow {
    session: String,
    normalized: String,
    query: String,
    at: i64,
    why: Option<Unresolved>,
}

impl EventStore {
    /// The report for `period`: at most `limit` queries and pages in each list. `pages` gives
    /// titles.
    pub async fn gap_report(
        &self,
        period: Period,
        limit: usize,
        pages: &HashMap<String, PageMeta>,
    ) -> Result<GapReport, StoreError> {
        let err = |e: sqlx::Error| self.error(&e);
        let flag =
            |cond: &str| format!("CAST(CASE WHEN EXISTS ({cond}) THEN 1 ELSE 0 END AS BIGINT)");
        let opened = "SELECT 1 FROM events c WHERE c.session = s.session AND c.kind = 'click'
                      AND c.search_id = s.search_id";
        let unhelpful = format!(
            "{opened} AND EXISTS (SELECT 1 FROM events f WHERE f.session = c.session
               AND f.kind = 'feedback' AND f.helpful = 0 AND f.at >= c.at
               AND (f.url = c.url OR substr(c.url, 1, length(f.url) + 1) = f.url || '#'))"
        );
        let escalated = format!(
            "{opened} AND EXISTS (SELECT 1 FROM tickets t WHERE t.session = c.session AND t.at >= c.at)"
        );
        let sql = format!(
            "SELECT s.session, s.normalized, s.query, s.results, s.at, {}, {}, {}
             FROM events s WHERE s.kind = 'search' AND s.at >= $1 AND s.at < $2",
            flag(opened),
            flag(&unhelpful),
            flag(&escalated)
        );
        let rows = sqlx::query(&sql)
            .bind(period.from)
            .bind(period.until)
            .fetch_all(self.pool())
            .await
            .map_err(err)?;
        let mut searches = Vec::with_capacity(rows.len());
        for row in &rows {
            let results: i64 = row.try_get(3).map_err(err)?;
            let opened: i64 = row.try_get(5).map_err(err)?;
            let unhelpful: i64 = row.try_get(6).map_err(err)?;
            let escalated: i64 = row.try_get(7).map_err(err)?;
            let why = if results == 0 {
                Some(Unresolved::NoResults)
            } else if opened == 0 {
                Some(Unresolved::NotOpened)
            } else if escalated != 0 {
                Some(Unresolved::Escalated)
            } else if unhelpful != 0 {
                Some(Unresolved::Unhelpful)
            } else {
                None
            };
            let query: String = row.try_get(2).map_err(err)?;
            let normalized: String = row.try_get(1).map_err(err)?;
            searches.push(SearchRow {
                session: row.try_get(0).map_err(err)?,
                normalized: if normalized.is_empty() {
                    query.to_lowercase()
                } else {
                    normalized
                },
                query,
                at: row.try_get(4).map_err(err)?,
                why,
            });
        }

        let feedback = sqlx::query(
            "SELECT session, url, helpful, reason, comment, at FROM events
             WHERE kind = 'feedback' AND at >= $1 AND at < $2 ORDER BY at DESC, id DESC",
        )
        .bind(period.from)
        .bind(period.until)
        .fetch_all(self.pool())
        .await
        .map_err(err)?;
        let views = sqlx::query(
            "SELECT session, url, MIN(at) FROM events
             WHERE kind = 'view' AND at >= $1 AND at < $2 GROUP BY session, url",
        )
        .bind(period.from)
        .bind(period.until)
        .fetch_all(self.pool())
        .await
        .map_err(err)?;
        let tickets = sqlx::query(
            "SELECT session, MAX(at), COUNT(*) FROM tickets WHERE at >= $1 AND at < $2
             GROUP BY session",
        )
        .bind(period.from)
        .bind(period.until)
        .fetch_all(self.pool())
        .await
        .map_err(err)?;

        // Sessions that filed a ticket: when they last did.
        let mut filed: HashMap<String, i64> = HashMap::new();
        let mut ticket_count = 0;
        for row in &tickets {
            filed.insert(row.try_get(0).map_err(err)?, row.try_get(1).map_err(err)?);
            ticket_count += row.try_get::<i64, _>(2).map_err(err)?;
        }
        let title = |url: &str| pages.get(url).map(|p| p.title.clone()).unwrap_or_default();

        // Pages by "did not help" answers.
        let mut votes: HashMap<String, PageVotes> = HashMap::new();
        let mut unhappy: HashSet<(String, String)> = HashSet::new();
        for row in &feedback {
            let session: String = row.try_get(0).map_err(err)?;
            let url: String = row.try_get(1).map_err(err)?;
            let helpful = row.try_get::<i64, _>(2).map_err(err)? != 0;
            let reason: Option<String> = row.try_get(3).map_err(err)?;
            let comment: Option<String> = row.try_get(4).map_err(err)?;
            let entry = votes.entry(url.clone()).or_insert_with(|| PageVotes {
                title: title(&url),
                url: url.clone(),
                unhelpful: 0,
                helpful: 0,
                reasons: Vec::new(),
                comments: Vec::new(),
            });
            if helpful {
                entry.helpful += 1;
                continue;
            }
            entry.unhelpful += 1;
            let reason = reason.unwrap_or_else(|| "none".into());
            match entry.reasons.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, n)) => *n += 1,
                None => entry.reasons.push((reason, 1)),
            }
            if let Some(c) = comment
                && entry.comments.len() < COMMENTS_PER_PAGE
            {
                entry.comments.push(c);
            }
            unhappy.insert((session, url));
        }
        let mut pages_out: Vec<PageVotes> =
            votes.into_values().filter(|v| v.unhelpful > 0).collect();
        for p in &mut pages_out {
            p.reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        }
        pages_out.sort_by(|a, b| {
            b.unhelpful
                .cmp(&a.unhelpful)
                .then(a.helpful.cmp(&b.helpful))
                .then(a.url.cmp(&b.url))
        });
        pages_out.truncate(limit);

        // Per-page scores over visits, and the sessions that did anything.
        let mut active: HashSet<String> = searches.iter().map(|s| s.session.clone()).collect();
        let mut per_page: HashMap<String, (i64, i64, i64)> = HashMap::new();
        for row in &views {
            let session: String = row.try_get(0).map_err(err)?;
            let url: String = row.try_get(1).map_err(err)?;
            let first: i64 = row.try_get(2).map_err(err)?;
            let entry = per_page.entry(url.clone()).or_default();
            entry.0 += 1;
            if filed.get(&session).is_some_and(|&t| t >= first) {
                entry.2 += 1;
            } else if !unhappy.contains(&(session.clone(), url)) {
                entry.1 += 1;
            }
            active.insert(session);
        }
        let mut page_scores: Vec<PageScore> = per_page
            .into_iter()
            .map(|(url, (visits, resolved, escalated))| PageScore {
                title: title(&url),
                url,
                visits,
                score: Score::new(resolved, escalated),
            })
            .collect();
        page_scores.sort_by(|a, b| {
            let s = |p: &PageScore| p.score.score.unwrap_or(-1.0);
            s(a).total_cmp(&s(b))
                .then(b.visits.cmp(&a.visits))
                .then(a.url.cmp(&b.url))
        });
        page_scores.truncate(limit);

        let unhappy_sessions: HashSet<&str> = unhappy.iter().map(|(s, _)| s.as_str()).collect();
        active.extend(filed.keys().cloned());
        let escalated_sessions = active.iter().filter(|s| filed.contains_key(*s)).count() as i64;
        let resolved_sessions = active
            .iter()
            .filter(|s| !filed.contains_key(*s) && !unhappy_sessions.contains(s.as_str()))
            .count() as i64;

        // Unresolved queries.
        let step = bucket_ms(period);
        let buckets = ((period.until - period.from + step - 1) / step).max(1) as usize;
        struct Group {
            unresolved: i64,
            searches: i64,
            sessions: HashSet<String>,
            reasons: HashMap<Unresolved, i64>,
            examples: HashMap<String, (i64, i64)>,
            trend: Vec<i64>,
        }
        let mut groups: HashMap<&str, Group> = HashMap::new();
        for s in &searches {
            let g = groups
                .entry(s.normalized.as_str())
                .or_insert_with(|| Group {
                    unresolved: 0,
                    searches: 0,
                    sessions: HashSet::new(),
                    reasons: HashMap::new(),
                    examples: HashMap::new(),
                    trend: vec![0; buckets],
                });
            g.searches += 1;
            let Some(why) = s.why else { continue };
            g.unresolved += 1;
            g.sessions.insert(s.session.clone());
            *g.reasons.entry(why).or_default() += 1;
            let example = g.examples.entry(s.query.clone()).or_default();
            example.0 += 1;
            example.1 = example.1.max(s.at);
            let i = ((s.at - period.from) / step).clamp(0, buckets as i64 - 1) as usize;
            g.trend[i] += 1;
        }
        let unresolved_total = searches.iter().filter(|s| s.why.is_some()).count() as i64;
        let mut queries: Vec<QueryGap> = groups
            .into_iter()
            .filter(|(_, g)| g.unresolved > 0)
            .map(|(normalized, g)| {
                // The most typed wording; of equals, the latest.
                let mut examples: Vec<(String, (i64, i64))> = g.examples.into_iter().collect();
                examples.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                QueryGap {
                    normalized: normalized.to_string(),
                    example: examples.into_iter().next().map(|e| e.0).unwrap_or_default(),
                    unresolved: g.unresolved,
                    sessions: g.sessions.len() as i64,
                    searches: g.searches,
                    reasons: Unresolved::ALL
                        .iter()
                        .filter_map(|r| g.reasons.get(r).map(|n| (*r, *n)))
                        .collect(),
                    trend: g.trend,
                    closest: None,
                }
            })
            .collect();
        queries.sort_by(|a, b| {
            b.unresolved
                .cmp(&a.unresolved)
                .then(b.sessions.cmp(&a.sessions))
                .then(a.normalized.cmp(&b.normalized))
        });
        queries.truncate(limit);

        Ok(GapReport {
            from: super::rfc3339(period.from),
            until: super::rfc3339(period.until),
            trend_hours: step / 3_600_000,
            searches: searches.len() as i64,
            unresolved: unresolved_total,
            tickets: ticket_count,
            site: Score::new(resolved_sessions, escalated_sessions),
            queries,
            pages: pages_out,
            page_scores,
            trees: Vec::new(),
        })
    }
}

/// The trend interval: a day, or longer so a period has at most [`TREND_POINTS`] of them; an
/// hour for periods of two days or less.
fn bucket_ms(period: Period) -> i64 {
    let span = (period.until - period.from).max(1);
    let hour = 3_600_000;
    if span <= 48 * hour {
        return hour;
    }
    let days = (span + 24 * hour - 1) / (24 * hour);
    ((days + TREND_POINTS - 1) / TREND_POINTS).max(1) * 24 * hour
}

/// The report of the site configured by `config` (for `helpbook gaps`): its event store,
/// page titles from the build, closest pages from the search index. The second value is a
/// note when the build is missing, so titles and closest pages are left out.
pub async fn site_report(
    config: &crate::config::Config,
    period: Period,
    limit: usize,
) -> Result<(GapReport, Option<String>), String> {
    let location = config.server.events_location(&config.root);
    let postgres = location.starts_with("postgres://") || location.starts_with("postgresql://");
    if !postgres && !std::path::Path::new(&location).is_file() {
        return Err(format!(
            "no events recorded yet: {location} does not exist (`helpbook serve --production` records them there)"
        ));
    }
    let store = EventStore::open(&location)
        .await
        .map_err(|e| e.to_string())?;
    let pages = crate::content::read_pages(&config.out_dir).unwrap_or_default();
    let trees = crate::triage::read_meta(&config.out_dir).unwrap_or_default();
    let report = match store.gap_report(period, limit, &pages).await {
        Ok(mut report) => store.tree_report(period, &trees).await.map(|t| {
            report.trees = t;
            report
        }),
        Err(e) => Err(e),
    };
    store.close().await;
    let mut report = report.map_err(|e| e.to_string())?;
    let note = match SearchIndex::open_output(&config.out_dir) {
        Ok(index) => {
            report.find_closest(&index);
            None
        }
        Err(e) => Some(format!(
            "closest pages are left out: {e}; run `helpbook build` first"
        )),
    };
    Ok((report, note))
}

impl GapReport {
    /// Fills in, for each query, the page the search ranks first today.
    pub fn find_closest(&mut self, index: &SearchIndex) {
        for q in &mut self.queries {
            let results = index.search(&SearchRequest {
                query: q.example.clone(),
                limit: 1,
                ..SearchRequest::default()
            });
            q.closest = results.results.into_iter().next().map(|hit| ClosestPage {
                title: if hit.section.is_empty() {
                    hit.title
                } else {
                    format!("{} › {}", hit.title, hit.section)
                },
                url: hit.url,
            });
        }
    }

    /// The unresolved queries as CSV (RFC 4180), one row per normalised query.
    pub fn queries_csv(&self) -> String {
        let mut out = String::from(
            "normalized,example,unresolved,sessions,searches,no_results,not_opened,escalated,unhelpful,closest_title,closest_url,trend\r\n",
        );
        for q in &self.queries {
            let reason = |r: Unresolved| {
                q.reasons
                    .iter()
                    .find(|(x, _)| *x == r)
                    .map_or(0, |(_, n)| *n)
                    .to_string()
            };
            let trend: Vec<String> = q.trend.iter().map(i64::to_string).collect();
            let fields = [
                q.normalized.clone(),
                q.example.clone(),
                q.unresolved.to_string(),
                q.sessions.to_string(),
                q.searches.to_string(),
                reason(Unresolved::NoResults),
                reason(Unresolved::NotOpened),
                reason(Unresolved::Escalated),
                reason(Unresolved::Unhelpful),
                q.closest
                    .as_ref()
                    .map(|c| c.title.clone())
                    .unwrap_or_default(),
                q.closest
                    .as_ref()
                    .map(|c| c.url.clone())
                    .unwrap_or_default(),
                trend.join(" "),
            ];
            csv_row(&mut out, &fields);
        }
        out
    }

    /// The pages with "did not help" answers as CSV.
    pub fn pages_csv(&self) -> String {
        let mut out = String::from("url,title,unhelpful,helpful,reasons,comments\r\n");
        for p in &self.pages {
            let reasons: Vec<String> = p.reasons.iter().map(|(r, n)| format!("{r}:{n}")).collect();
            let fields = [
                p.url.clone(),
                p.title.clone(),
                p.unhelpful.to_string(),
                p.helpful.to_string(),
                reasons.join(" "),
                p.comments.join(" | "),
            ];
            csv_row(&mut out, &fields);
        }
        out
    }
}

impl GapReport {
    /// The report as text for a terminal: the period's numbers, then the three lists.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Gap report, {} to {}",
            &self.from[..10],
            &self.until[..10]
        );
        let _ = writeln!(
            out,
            "Searches {} · unresolved {} ({}) · tickets {} · self-service score {} ({} sessions resolved, {} escalated)",
            self.searches,
            self.unresolved,
            percent(self.unresolved, self.searches),
            self.tickets,
            self.site.percent(),
            self.site.resolved,
            self.site.escalated
        );

        out.push_str("\nUnresolved queries (grouped by normalised form)\n");
        if self.queries.is_empty() {
            out.push_str("  none: every search in the period found a page that helped\n");
        } else {
            let rows: Vec<Vec<String>> = self
                .queries
                .iter()
                .map(|q| {
                    let why: Vec<String> = q
                        .reasons
                        .iter()
                        .map(|(r, n)| format!("{} {n}", r.label()))
                        .collect();
                    vec![
                        q.example.clone(),
                        q.unresolved.to_string(),
                        q.sessions.to_string(),
                        q.searches.to_string(),
                        why.join(", "),
                        sparkline_text(&q.trend),
                        q.closest
                            .as_ref()
                            .map_or("– (nothing matches)".to_string(), |c| {
                                format!("{} ({})", c.title, c.url)
                            }),
                    ]
                })
                .collect();
            table(
                &mut out,
                &[
                    "Query",
                    "Unresolved",
                    "Sessions",
                    "Searches",
                    "Why",
                    "Trend",
                    "Closest page",
                ],
                &rows,
            );
        }

        out.push_str("\nPages that did not help\n");
        if self.pages.is_empty() {
            out.push_str("  none\n");
        } else {
            let rows: Vec<Vec<String>> = self
                .pages
                .iter()
                .map(|p| {
                    let reasons: Vec<String> =
                        p.reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
                    vec![
                        page_name(&p.title, &p.url),
                        p.unhelpful.to_string(),
                        p.helpful.to_string(),
                        reasons.join(", "),
                        p.comments
                            .first()
                            .map(|c| format!("“{c}”"))
                            .unwrap_or_default(),
                    ]
                })
                .collect();
            table(
                &mut out,
                &["Page", "No", "Yes", "Reasons", "Latest comment"],
                &rows,
            );
        }

        out.push_str("\nSelf-service score by page (lowest first)\n");
        if self.page_scores.is_empty() {
            out.push_str("  no page views recorded\n");
        } else {
            let rows: Vec<Vec<String>> = self
                .page_scores
                .iter()
                .map(|p| {
                    vec![
                        page_name(&p.title, &p.url),
                        p.visits.to_string(),
                        p.score.resolved.to_string(),
                        p.score.escalated.to_string(),
                        p.score.percent(),
                    ]
                })
                .collect();
            table(
                &mut out,
                &["Page", "Visits", "Resolved", "Escalated", "Score"],
                &rows,
            );
        }
        super::triage_report::trees_text(&mut out, &self.trees);
        out
    }
}

fn page_name(title: &str, url: &str) -> String {
    if title.is_empty() {
        url.to_string()
    } else {
        format!("{title} ({url})")
    }
}

/// The trend as block characters, for terminals.
fn sparkline_text(values: &[i64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    values
        .iter()
        .map(|v| BARS[((*v * 7 + max - 1) / max).clamp(0, 7) as usize])
        .collect()
}

/// `part` of `whole` as `37 %`; `–` when `whole` is 0.
pub fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        "–".to_string()
    } else {
        format!("{:.0} %", part as f64 * 100.0 / whole as f64)
    }
}

/// Cells wider than this are cut with `…`.
const MAX_CELL: usize = 48;

/// Writes an aligned table (CJK text counts two columns).
pub(super) fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    use unicode_width::UnicodeWidthStr;
    let cut = |s: &str| -> String {
        if s.width() <= MAX_CELL {
            return s.to_string();
        }
        let mut w = 0;
        let mut t = String::new();
        for c in s.chars() {
            let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if w + cw > MAX_CELL - 1 {
                break;
            }
            w += cw;
            t.push(c);
        }
        t.push('…');
        t
    };
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| cut(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.width());
        }
    }
    let mut line = |cells: &[&str]| {
        out.push(' ');
        for (i, c) in cells.iter().enumerate() {
            out.push(' ');
            out.push_str(c);
            if i + 1 < cells.len() {
                out.push_str(&" ".repeat(widths[i] - c.width() + 1));
            }
        }
        out.push('\n');
    };
    line(header);
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&cells);
    }
}

/// Appends one CSV record.
fn csv_row(out: &mut String, fields: &[String]) {
    let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    out.push_str(&row.join(","));
    out.push_str("\r\n");
}

/// A CSV field, quoted when needed. A leading `=`, `+`, `-` or `@` is prefixed with `'` so a
/// spreadsheet does not run a reader's query as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// A sparkline of `values` as inline SVG (drawn on the server: the admin page runs no script).
pub fn sparkline_svg(values: &[i64], label: &str) -> String {
    use std::fmt::Write;
    let (w, h) = (120.0_f64, 24.0_f64);
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = values.len().max(2) as f64 - 1.0;
    let mut points = String::new();
    // The last point is marked with a dot.
    let (mut lx, mut ly) = (0.0, h - 2.0);
    for (i, v) in values.iter().enumerate() {
        lx = i as f64 * w / n;
        ly = h - 2.0 - (*v as f64 / max) * (h - 4.0);
        let _ = write!(points, "{lx:.1},{ly:.1} ");
    }
    format!(
        "<svg class=\"sparkline\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{label}\"><title>{label}</title><polyline fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\" points=\"{}\"/><circle cx=\"{lx:.1}\" cy=\"{ly:.1}\" r=\"2\" fill=\"currentColor\"/></svg>",
        points.trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_read_like_people_write_them() {
        let now = 1_795_253_400_000;
        assert_eq!(
            Period::parse("30d", now).unwrap().from,
            now - 30 * 86_400_000
        );
        assert_eq!(
            Period::parse("2w", now).unwrap().from,
            now - 14 * 86_400_000
        );
        assert_eq!(
            Period::parse("12h", now).unwrap().from,
            now - 12 * 3_600_000
        );
        assert_eq!(Period::parse("7", now).unwrap().from, now - 7 * 86_400_000);
        assert_eq!(
            Period::parse("2026-11-01", now).unwrap().from,
            1_793_491_200_000
        );
        assert!(Period::parse("soon", now).unwrap_err().contains("30d"));
        assert!(Period::parse("0d", now).is_err());
        assert!(
            Period::parse("2027-01-01", now)
                .unwrap_err()
                .contains("future")
        );
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }

    #[test]
    fn trend_intervals_stay_readable() {
        let day = 86_400_000;
        assert_eq!(
            bucket_ms(Period {
                from: 0,
                until: day
            }),
            3_600_000
        );
        assert_eq!(
            bucket_ms(Period {
                from: 0,
                until: 30 * day
            }),
            day
        );
        assert_eq!(
            bucket_ms(Period {
                from: 0,
                until: 90 * day
            }),
            3 * day
        );
    }

    #[test]
    fn sparkline_is_an_accessible_svg() {
        let svg = sparkline_svg(&[0, 2, 1, 4], "4 searches");
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("aria-label=\"4 searches\""));
        assert!(svg.contains("points=\"0.0,22.0 40.0,12.0 80.0,17.0 120.0,2.0\""));
    }
}

//! `/admin`: the gap report and the latest tickets for support leads, behind a token.
//!
//! The token comes from `[server] admin-token` or `HELPBOOK_SERVER__ADMIN_TOKEN`. A browser
//! gives it as the password of the HTTP Basic prompt (any user name); scripts send
//! `Authorization: Bearer TOKEN`. It is compared in constant time. Without a configured token
//! `/admin` does not exist (404).
//!
//! The page is drawn on the server, sparklines included, and runs no script.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::production::error;
use crate::analytics::{self, Delivery, GapReport, Period, StoredTicket, sparkline_svg};
use crate::markdown::escape_html;

/// Rows in each list of the page.
const ROWS: usize = 25;

/// The admin routes, behind the token check.
pub(super) fn routes(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin", get(page))
        .route("/admin/", get(page))
        .route("/admin/gaps.json", get(gaps_json))
        .route("/admin/gaps.csv", get(gaps_csv))
        .route("/admin/tickets.json", get(tickets_json))
        .route("/admin/admin.css", get(stylesheet))
        .layer(middleware::from_fn_with_state(state, require_token))
}

/// `a == b` in time that depends only on the length of `expected`.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = given.len() ^ expected.len();
    for (i, e) in expected.iter().enumerate() {
        diff |= usize::from(given.get(i).copied().unwrap_or(0) ^ e);
    }
    std::hint::black_box(diff) == 0
}

/// The token in an `Authorization` header: `Bearer TOKEN`, or Basic with TOKEN as password.
fn presented_token(value: &str) -> Option<String> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64_decode(rest.trim())?;
        let text = String::from_utf8(decoded).ok()?;
        return text
            .split_once(':')
            .map(|(_, password)| password.to_string());
    }
    None
}

/// Standard base64, with or without padding.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    STANDARD
        .decode(text)
        .or_else(|_| STANDARD_NO_PAD.decode(text))
        .ok()
}

async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = state.live.as_ref().and_then(|l| l.admin_token.as_deref()) else {
        return error(
            StatusCode::NOT_FOUND,
            "/admin is closed: set HELPBOOK_SERVER__ADMIN_TOKEN (or [server] admin-token) and run `helpbook serve --production`",
        );
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(presented_token);
    match given {
        Some(token) if same_secret(token.as_bytes(), expected.as_bytes()) => {
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
            response
        }
        _ => {
            let mut response = error(
                StatusCode::UNAUTHORIZED,
                "the admin token is missing or wrong: give it as the password (any user name), or send `Authorization: Bearer TOKEN`",
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"helpbook admin\", charset=\"UTF-8\""),
            );
            response
        }
    }
}

/// The report for `?since=` (default 30 days), with closest pages.
async fn report(
    state: &Arc<AppState>,
    params: &HashMap<String, String>,
) -> Result<(GapReport, String), Response> {
    let live = state.live.as_ref().expect("the token check passed");
    let since = params
        .get("since")
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("30d")
        .to_string();
    let period = Period::parse(&since, analytics::now_ms())
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("since: {e}")))?;
    let store = &live.store;
    let report = async {
        let mut report = store.gap_report(period, ROWS, &state.built().pages).await?;
        report.trees = store.tree_report(period, &state.built().triage).await?;
        Ok::<_, analytics::StoreError>(report)
    }
    .await
    .map_err(|e| {
        eprintln!("error: {e}");
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the event store cannot be read right now",
        )
    })?;
    let state = state.clone();
    let report = tokio::task::spawn_blocking(move || {
        let mut report = report;
        report.find_closest(&state.built().index);
        report
    })
    .await
    .map_err(|_| error(StatusCode::SERVICE_UNAVAILABLE, "the report failed"))?;
    Ok((report, since))
}

async fn gaps_json(
    State(state): State<Arc<AppState>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match report(&state, &params).await {
        Ok((report, _)) => axum::Json(report).into_response(),
        Err(r) => r,
    }
}

async fn gaps_csv(
    State(state): State<Arc<AppState>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match report(&state, &params).await {
        Ok((report, _)) => {
            let pages = params.get("list").is_some_and(|l| l == "pages");
            let (body, name) = if pages {
                (report.pages_csv(), "unhelpful-pages.csv")
            } else {
                (report.queries_csv(), "unresolved-queries.csv")
            };
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                body,
            )
                .into_response()
        }
        Err(r) => r,
    }
}

async fn tickets_json(State(state): State<Arc<AppState>>) -> Response {
    let live = state.live.as_ref().expect("the token check passed");
    match live.store.recent_tickets(100).await {
        Ok(t) => axum::Json(t).into_response(),
        Err(e) => {
            eprintln!("error: {e}");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the event store cannot be read right now",
            )
        }
    }
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        ADMIN_CSS,
    )
        .into_response()
}

async fn page(
    State(state): State<Arc<AppState>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let (report, since) = match report(&state, &params).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let live = state.live.as_ref().expect("the token check passed");
    let tickets = live
        .store
        .recent_tickets(ROWS as i64)
        .await
        .map_err(|e| eprintln!("error: {e}"));
    let undelivered = live.store.undelivered().await.ok();
    let outage = live.outage.get();
    Html(render(
        &report,
        &since,
        &tickets,
        undelivered,
        live.outbox.is_some(),
        &outage,
    ))
    .into_response()
}

fn page_link(title: &str, url: &str) -> String {
    let label = if title.is_empty() { url } else { title };
    format!(
        "<a href=\"{}\">{}</a>",
        escape_html(url),
        escape_html(label)
    )
}

/// Opens a table with its header row; a column written `#Name` holds numbers (right-aligned).
fn table_head(h: &mut String, columns: &[&str]) {
    h.push_str("<table><thead><tr>");
    for column in columns {
        match column.strip_prefix('#') {
            Some(name) => {
                let _ = write!(h, "<th scope=\"col\" class=\"num\">{name}</th>");
            }
            None => {
                let _ = write!(h, "<th scope=\"col\">{column}</th>");
            }
        }
    }
    h.push_str("</tr></thead><tbody>");
}

/// Each triage tree: its readers and outcomes, where readers left, the fixes that fail most.
fn trees_section(h: &mut String, trees: &[analytics::TreeReport]) {
    h.push_str(
        "<section aria-labelledby=\"trees\"><h2 id=\"trees\">Triage trees</h2>\
         <p class=\"hint\">Readers are sessions. “Left” means they saw the step last and gave no answer to any fix: reword that question or its answers. A fix that fails often needs a better guide, or a question before it.</p>",
    );
    if trees.is_empty() {
        h.push_str("<p>No tree was used in this period.</p></section>");
        return;
    }
    for t in trees {
        let _ = write!(
            h,
            "<h3>{} <span class=\"small\">{}</span></h3><p>{}</p>",
            escape_html(&t.title),
            escape_html(&t.tree),
            escape_html(&t.summary())
        );
        table_head(h, &["Step", "#Readers", "#Left here", "#Drop-off"]);
        for s in &t.steps {
            let drop = s.drop_off_percent();
            let _ = write!(
                h,
                "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{drop}</td></tr>",
                escape_html(&s.text),
                s.readers,
                s.dropped
            );
        }
        h.push_str("</tbody></table>");
        let failing: Vec<&analytics::FixReport> =
            t.fixes.iter().filter(|f| f.failures() > 0).collect();
        if failing.is_empty() {
            h.push_str("<p class=\"hint\">No fix of this tree failed.</p>");
            continue;
        }
        let _ = write!(h, "<h4>Fixes that fail most</h4>");
        table_head(
            h,
            &[
                "Fix",
                "#Readers",
                "#Fixed",
                "#Not fixed",
                "#Ticket",
                "#No answer",
            ],
        );
        for f in failing {
            let _ = write!(
                h,
                "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape_html(&f.text),
                f.readers,
                f.resolved,
                f.not_resolved,
                f.escalated,
                f.no_answer
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>");
}

/// The admin page.
fn render(
    report: &GapReport,
    since: &str,
    tickets: &Result<Vec<StoredTicket>, ()>,
    undelivered: Option<(i64, Option<i64>)>,
    webhook: bool,
    outage: &super::Outage,
) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let since_q = escape_html(since);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>Content gaps · helpbook admin</title>\
         <link rel=\"stylesheet\" href=\"/admin/admin.css\"></head><body>\
         <header><h1>Content gaps</h1><p>{} to {} · \
         <nav aria-label=\"Period\" class=\"periods\">",
        &report.from[..10],
        &report.until[..10]
    );
    for p in ["1d", "7d", "30d", "90d"] {
        if p == since {
            let _ = write!(h, "<span aria-current=\"page\">{p}</span> ");
        } else {
            let _ = write!(h, "<a href=\"?since={p}\">{p}</a> ");
        }
    }
    let _ = write!(
        h,
        "</nav> · <a href=\"gaps.json?since={since_q}\">JSON</a> · \
         <a href=\"gaps.csv?since={since_q}\">CSV</a></p></header><main>"
    );
    if outage.active {
        let trees: Vec<String> = outage
            .trees
            .iter()
            .map(|(tree, n)| format!("{} ({n})", escape_html(tree)))
            .collect();
        let _ = write!(
            h,
            "<section class=\"alert\" role=\"alert\" aria-labelledby=\"outage\"><h2 id=\"outage\">Outage signal on</h2>\
             <p>{} readers in the last {} minutes gave an answer that means the problem hits everyone \
             (threshold {}). The home page and the triage pages show a known-problem banner.</p>\
             <p class=\"small\">By tree: {}</p></section>",
            outage.readers,
            outage.window_minutes,
            outage.threshold,
            trees.join(", ")
        );
    }

    let share = analytics::percent(report.unresolved, report.searches);
    let _ = write!(
        h,
        "<section aria-labelledby=\"summary\"><h2 id=\"summary\" class=\"visually-hidden\">Summary</h2><dl class=\"cards\">\
         <div><dt>Self-service score</dt><dd>{}</dd><dd class=\"small\">{} sessions resolved, {} escalated</dd></div>\
         <div><dt>Searches</dt><dd>{}</dd></div>\
         <div><dt>Unresolved</dt><dd>{}</dd><dd class=\"small\">{share} of searches</dd></div>\
         <div><dt>Tickets</dt><dd>{}</dd></div></dl></section>",
        report.site.percent(),
        report.site.resolved,
        report.site.escalated,
        report.searches,
        report.unresolved,
        report.tickets
    );

    h.push_str(
        "<section aria-labelledby=\"queries\"><h2 id=\"queries\">Unresolved queries</h2>\
         <p class=\"hint\">Searches grouped by normalised form. Write or retitle a page for the top ones.</p>",
    );
    if report.queries.is_empty() {
        h.push_str("<p>None in this period.</p>");
    } else {
        table_head(
            &mut h,
            &[
                "Query",
                "#Unresolved",
                "#Sessions",
                "#Searches",
                "Why",
                "Trend",
                "Closest page",
            ],
        );
        for q in &report.queries {
            let why: Vec<String> = q
                .reasons
                .iter()
                .map(|(r, n)| format!("<span class=\"chip\">{} {n}</span>", r.label()))
                .collect();
            let points: Vec<String> = q.trend.iter().map(i64::to_string).collect();
            let label = format!(
                "Unresolved searches per {} h: {}",
                report.trend_hours,
                points.join(", ")
            );
            let _ = write!(
                h,
                "<tr><th scope=\"row\">{}<div class=\"small\">{}</div></th><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape_html(&q.example),
                escape_html(&q.normalized),
                q.unresolved,
                q.sessions,
                q.searches,
                why.join(" "),
                sparkline_svg(&q.trend, &label),
                q.closest
                    .as_ref()
                    .map_or("<span class=\"small\">nothing matches</span>".into(), |c| {
                        page_link(&c.title, &c.url)
                    })
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>");

    h.push_str("<section aria-labelledby=\"pages\"><h2 id=\"pages\">Pages that did not help</h2>");
    if report.pages.is_empty() {
        h.push_str("<p>No “did not help” answers in this period.</p>");
    } else {
        table_head(
            &mut h,
            &["Page", "#No", "#Yes", "Reasons", "Latest comments"],
        );
        for p in &report.pages {
            let reasons: Vec<String> = p
                .reasons
                .iter()
                .map(|(r, n)| {
                    format!(
                        "<span class=\"chip\">{} {n}</span>",
                        escape_html(&r.replace('_', " "))
                    )
                })
                .collect();
            let comments: Vec<String> = p
                .comments
                .iter()
                .map(|c| format!("<li>{}</li>", escape_html(c)))
                .collect();
            let _ = write!(
                h,
                "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td><ul>{}</ul></td></tr>",
                page_link(&p.title, &p.url),
                p.unhelpful,
                p.helpful,
                reasons.join(" "),
                comments.join("")
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>");

    h.push_str(
        "<section aria-labelledby=\"scores\"><h2 id=\"scores\">Self-service score by page</h2>\
         <p class=\"hint\">Visits that ended without a ticket or a “No” ÷ (those + visits followed by a ticket). Lowest first; “–”: every visit answered “No”.</p>",
    );
    if report.page_scores.is_empty() {
        h.push_str("<p>No page views recorded in this period.</p>");
    } else {
        table_head(
            &mut h,
            &["Page", "#Visits", "#Resolved", "#Escalated", "#Score"],
        );
        for p in &report.page_scores {
            let _ = write!(
                h,
                "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                page_link(&p.title, &p.url),
                p.visits,
                p.score.resolved,
                p.score.escalated,
                p.score.percent()
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>");

    trees_section(&mut h, &report.trees);

    h.push_str("<section aria-labelledby=\"tickets\"><h2 id=\"tickets\">Latest tickets</h2>");
    match (webhook, undelivered) {
        (false, _) => h.push_str(
            "<p class=\"hint\">No webhook is configured: tickets are only stored here. Set <code>[server] webhook</code> to forward them.</p>",
        ),
        (true, Some((0, _))) => h.push_str("<p class=\"hint\">Every ticket reached the webhook.</p>"),
        (true, Some((n, oldest))) => {
            let _ = write!(
                h,
                "<p class=\"warn\" role=\"status\">{n} ticket(s) not yet accepted by the webhook{}; they are retried until it answers.</p>",
                oldest.map_or(String::new(), |t| format!(
                    ", the oldest filed {}",
                    analytics::rfc3339(t)
                ))
            );
        }
        (true, None) => {}
    }
    let tickets: &[StoredTicket] = match tickets {
        Ok(t) => t,
        Err(()) => {
            h.push_str("<p class=\"warn\">The tickets cannot be read right now (see the server's log).</p>");
            &[]
        }
    };
    if tickets.is_empty() {
        h.push_str("<p>No tickets in the store.</p>");
    } else {
        table_head(
            &mut h,
            &[
                "Ticket",
                "Filed",
                "Priority",
                "Page",
                "Contact",
                "Description",
                "#Tried",
                "Webhook",
            ],
        );
        for t in tickets {
            let ticket = &t.ticket;
            let delivery = match &t.delivery {
                Delivery::NotSent => "not sent".to_string(),
                Delivery::Delivered { .. } => "delivered".to_string(),
                Delivery::Pending {
                    attempts,
                    last_error,
                } => format!(
                    "pending ({attempts} attempts{})",
                    last_error
                        .as_deref()
                        .map_or(String::new(), |e| format!(": {}", escape_html(e)))
                ),
            };
            let tried = format!(
                "{} searches, {} pages",
                ticket.tried.searches.len(),
                ticket.tried.views.len()
            );
            let _ = write!(
                h,
                "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td><td><span class=\"chip priority-{}\">{}</span></td>\
                 <td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                escape_html(&ticket.id),
                escape_html(&ticket.created_at.replace('T', " ").replace('Z', " UTC")),
                ticket.priority.as_str(),
                ticket.priority.as_str(),
                ticket
                    .page
                    .as_ref()
                    .map_or(String::new(), |p| page_link(&p.title, &p.url)),
                escape_html(&ticket.contact),
                escape_html(&ticket.description),
                tried,
                delivery
            );
        }
        h.push_str("</tbody></table><p><a href=\"tickets.json\">All recent tickets as JSON</a> (with what each reader tried)</p>");
    }
    h.push_str("</section></main></body></html>\n");
    h
}

/// The admin page's styles (served by the server: the admin page is not part of the site).
const ADMIN_CSS: &str = r#":root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --bg: #ffffff; --line: #d0d7de; --chip: #eef1f4; --accent: #0a58ca; --warn: #8a4b00; }
.alert { border: 2px solid var(--warn); padding: 0.5rem 1rem; border-radius: 6px; margin-bottom: 1rem; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9da7b3; --bg: #0d1117; --line: #30363d; --chip: #21262d; --accent: #6cb6ff; --warn: #f0b45a; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 78rem; padding: 1rem 1.25rem 3rem; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", "PingFang SC", "Microsoft YaHei", sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
h1 { margin: 0.5rem 0 0; font-size: 1.6rem; }
h2 { margin-top: 2.2rem; font-size: 1.25rem; }
.periods { display: inline; }
.periods [aria-current] { font-weight: 700; }
.hint, .small { color: var(--muted); font-size: 0.875rem; }
.warn { color: var(--warn); font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: 0.75rem; margin: 1rem 0; }
.cards div { border: 1px solid var(--line); border-radius: 8px; padding: 0.75rem 1rem; }
.cards dt { color: var(--muted); font-size: 0.875rem; }
.cards dd { margin: 0; font-size: 1.6rem; font-weight: 650; }
.cards dd.small { font-size: 0.8rem; font-weight: 400; }
table { width: 100%; border-collapse: collapse; font-size: 0.9rem; display: block; overflow-x: auto; }
th, td { text-align: left; vertical-align: top; padding: 0.45rem 0.6rem; border-bottom: 1px solid var(--line); }
thead th { color: var(--muted); font-weight: 600; white-space: nowrap; }
tbody th { font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.chip { display: inline-block; background: var(--chip); border-radius: 999px; padding: 0 0.55rem; margin: 0 0.2rem 0.2rem 0; white-space: nowrap; font-size: 0.8rem; }
.priority-urgent { background: #b42318; color: #fff; }
.priority-high { background: #b54708; color: #fff; }
.sparkline { color: var(--accent); vertical-align: middle; }
td ul { margin: 0; padding-left: 1.1rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_read_from_bearer_and_basic() {
        assert_eq!(presented_token("Bearer abc123").as_deref(), Some("abc123"));
        // "support:s3cret-token" in base64.
        assert_eq!(
            presented_token("Basic c3VwcG9ydDpzM2NyZXQtdG9rZW4=").as_deref(),
            Some("s3cret-token")
        );
        assert_eq!(presented_token("Basic !!!"), None);
        assert_eq!(presented_token("Digest x"), None);
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret(b"correct horse", b"correct horse"));
        assert!(!same_secret(b"correct hors", b"correct horse"));
        assert!(!same_secret(b"correct horsee", b"correct horse"));
        assert!(!same_secret(b"", b"correct horse"));
        assert!(!same_secret(b"Correct horse", b"correct horse"));
    }
}

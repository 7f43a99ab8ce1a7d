//! Triage trees on the server: `POST /api/triage` (the "Did this fix it?" form posted without
//! JavaScript), and the outage signal: when many readers answer that a problem hits everyone
//! ("everyone, in every class") within a few minutes, the home page and the triage pages show a
//! known-problem banner, so a teacher learns it is not their fault.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use super::AppState;
use super::escalation::small_page;
use crate::analytics::{self, Event, EventStore, Outcome};
use crate::i18n::Locale;
use crate::markdown::escape_html;

/// How often the outage signal is worked out again from the event store (shared by every
/// replica, so the signal is the same whichever one a reader reaches).
pub(super) const OUTAGE_CHECK: Duration = Duration::from_secs(5);

/// Where the banner goes in a page (`theme/templates/triage.html` and `section.html`).
const BANNER_MARKER: &str = "<!--helpbook:outage-->";

/// Largest page the banner is put into; bigger responses pass untouched.
const MAX_PAGE: usize = 4 << 20;

/// `POST /api/triage`: the outcome form of a fix page, posted without JavaScript. "Yes" is
/// recorded and answered with a short page; "No" is recorded and sent back to the fix page's
/// "Still not working?" part. The preview server answers the same way without recording.
pub(super) async fn api_triage(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let locale = state.built().index.locale();
    let fail = |status: StatusCode, message: String| {
        let text =
            escape_html(locale.get("ticket_failed")).replace("{reason}", &escape_html(&message));
        small_page(
            status,
            locale,
            "triage_fixed_question",
            &format!("<p role=\"alert\">{text}</p>"),
            None,
        )
    };
    let body = match body {
        Ok(b) => b,
        Err(rejection) => return fail(rejection.status(), rejection.body_text()),
    };
    let Some(text) = super::form_text(&body) else {
        return fail(
            StatusCode::BAD_REQUEST,
            "the form is not valid UTF-8".into(),
        );
    };
    let fields: Vec<(String, String)> = match serde_urlencoded::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            return fail(
                StatusCode::BAD_REQUEST,
                format!("the form is not valid: {e}"),
            );
        }
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let outcome = match field("outcome") {
        "resolved" => Outcome::Resolved,
        "not_resolved" => Outcome::NotResolved,
        other => {
            return fail(
                StatusCode::BAD_REQUEST,
                format!("outcome must be `resolved` or `not_resolved`, not `{other}`"),
            );
        }
    };
    let kind = match analytics::triage_event(
        &state.built().triage,
        field("tree"),
        field("step"),
        field("path"),
        Some(outcome),
    ) {
        Ok(k) => k,
        Err(message) => return fail(StatusCode::BAD_REQUEST, message),
    };
    let session = match field("session") {
        "" => analytics::random_id(),
        s => match analytics::check_id("session", s) {
            Ok(()) => s.to_string(),
            Err(message) => return fail(StatusCode::BAD_REQUEST, message),
        },
    };
    let url = match &kind {
        analytics::EventKind::Triage { url, .. } => url.clone(),
        _ => "/".into(),
    };
    if let Some(sink) = state.events() {
        let event = Event {
            at: analytics::now_ms(),
            session,
            kind,
        };
        if let Err(e) = sink.store(vec![event]).await {
            let reason = match &e {
                analytics::SinkError::Store(e) => e.reason(),
                analytics::SinkError::Closed => "the server is restarting",
            };
            return fail(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("your answer could not be recorded: {reason}. Try again in a minute"),
            );
        }
    }
    match outcome {
        Outcome::NotResolved => Redirect::to(&format!("{url}#not-fixed")).into_response(),
        _ => small_page(
            StatusCode::OK,
            locale,
            "triage_fixed_question",
            &format!(
                "<p role=\"status\">{}</p>",
                escape_html(locale.get("triage_fixed_thanks"))
            ),
            Some("/"),
        ),
    }
}

/// Whether many readers report an outage right now, as last worked out.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Outage {
    /// Whether the banner shows.
    pub active: bool,
    /// Readers (sessions) who gave an outage answer within the window.
    pub readers: i64,
    /// Of them, by tree id.
    pub trees: Vec<(String, i64)>,
    /// Readers it takes.
    pub threshold: u32,
    /// The window, in minutes.
    pub window_minutes: u32,
}

/// The outage signal shared by the handlers; a task refreshes it from the event store.
#[derive(Debug)]
pub struct OutageSignal {
    threshold: u32,
    window_minutes: u32,
    state: RwLock<Outage>,
}

impl OutageSignal {
    /// A signal that is off until first worked out; never on with `threshold` 0.
    pub fn new(threshold: u32, window_minutes: u32) -> OutageSignal {
        OutageSignal {
            threshold,
            window_minutes,
            state: RwLock::new(Outage {
                threshold,
                window_minutes,
                ..Outage::default()
            }),
        }
    }

    /// The signal as last worked out.
    pub fn get(&self) -> Outage {
        self.state.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Works the signal out again from `store`.
    pub async fn refresh(&self, store: &EventStore) {
        let since = analytics::now_ms() - i64::from(self.window_minutes) * 60_000;
        match store.outage_readers(since).await {
            Ok((readers, trees)) => {
                if let Ok(mut state) = self.state.write() {
                    state.active = readers >= i64::from(self.threshold);
                    state.readers = readers;
                    state.trees = trees;
                }
            }
            Err(e) => eprintln!("warning: {e} (outage signal not updated)"),
        }
    }

    /// Refreshes the signal every [`OUTAGE_CHECK`] until the task is aborted.
    pub fn spawn(self: Arc<Self>, store: EventStore) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            if self.threshold == 0 {
                return;
            }
            loop {
                self.refresh(&store).await;
                tokio::time::sleep(OUTAGE_CHECK).await;
            }
        })
    }
}

/// Whether the banner belongs on the page at `path`: the home page, a language's home page and
/// the triage pages.
fn shows_banner(path: &str) -> bool {
    let path = path.trim_start_matches('/');
    path.is_empty()
        || path == "index.html"
        || path
            .strip_prefix(crate::triage::TREE_DIR)
            .is_some_and(|rest| rest.starts_with('/'))
            && (path.ends_with(".html") || path.ends_with('/'))
        || path.split('/').count() == 2 && path.ends_with("/index.html")
        || path.split('/').count() == 2 && path.ends_with('/')
}

/// Middleware of the production server: while the outage signal is on, puts the banner into
/// the pages it belongs on (and keeps browsers from answering them from their cache).
pub(super) async fn outage_banner(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    // Every request passes here: the cheap tests first (no lock, no copy for the API).
    let Some(live) = state
        .live
        .as_ref()
        .filter(|_| request.method() == Method::GET && shows_banner(request.uri().path()))
    else {
        return next.run(request).await;
    };
    let outage = live.outage.get();
    if !outage.active {
        return next.run(request).await;
    }
    // A cached copy without the banner must not be confirmed as current.
    request.headers_mut().remove(header::IF_MODIFIED_SINCE);
    request.headers_mut().remove(header::IF_NONE_MATCH);
    let response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if response.status() != StatusCode::OK || !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE).await else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the page could not be read",
        )
            .into_response();
    };
    let Ok(html) = std::str::from_utf8(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if !html.contains(BANNER_MARKER) {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let locale = if html.contains("<html lang=\"zh") {
        Locale::Zh
    } else {
        Locale::En
    };
    let html = html.replacen(BANNER_MARKER, &banner_html(&outage, &state, locale), 1);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::LAST_MODIFIED);
    parts.headers.remove(header::ETAG);
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, Body::from(html))
}

/// The known-problem banner.
fn banner_html(outage: &Outage, state: &AppState, locale: Locale) -> String {
    let built = state.built();
    let titles: Vec<String> = outage
        .trees
        .iter()
        .filter_map(|(id, _)| built.triage.iter().find(|t| &t.id == id))
        .map(|t| escape_html(&t.title))
        .collect();
    let detail = if titles.is_empty() {
        String::new()
    } else {
        format!("<p class=\"outage-detail\">{}</p>", titles.join(" · "))
    };
    format!(
        "<div class=\"outage-banner\" role=\"alert\"><p class=\"outage-title\"><strong>{}</strong></p><p>{}</p>{detail}</div>",
        escape_html(locale.get("outage_title")),
        escape_html(locale.get("outage_text")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_goes_on_the_front_door_and_the_trees() {
        for path in [
            "/",
            "/index.html",
            "/triage/live-class/index.html",
            "/triage/a/b/c.html",
            "/zh/index.html",
            "/zh/",
        ] {
            assert!(shows_banner(path), "{path}");
        }
        for path in [
            "/troubleshooting/echo.html",
            "/api/search",
            "/_helpbook/style.css",
            "/a/b/index.html",
        ] {
            assert!(!shows_banner(path), "{path}");
        }
    }
}

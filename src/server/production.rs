//! `serve --production`: the event store and its writer, `POST /api/events`, and the layers a
//! public server needs (security and cache headers, compression, body and rate limits).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Json, Response};
use tokio::task::JoinHandle;
use tower_governor::GovernorError;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use super::AppState;
use crate::analytics::{self, ClientEvent, EventSink, EventStore, Outbox, SinkError, Webhook};

/// Largest request body accepted, in bytes.
pub const MAX_BODY: usize = 8 * 1024;
/// Most bytes of request headers taken (names and values): browsers send a few KB, cookies
/// included.
const MAX_HEADERS: usize = 32 * 1024;
/// Most events in one `POST /api/events`.
pub const MAX_EVENTS: usize = 100;

/// The Content-Security-Policy of every response: the site's own scripts, styles, fonts and
/// API; images also from https (pages may embed them); no framing. `style-src-attr` allows the
/// `style="text-align: …"` attributes of Markdown tables.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    style-src-attr 'unsafe-inline'; img-src 'self' data: https:; font-src 'self'; \
    connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'";

/// How the production server runs (from `[server]` in book.toml).
#[derive(Debug, Clone)]
pub struct ProductionOptions {
    /// The event store: a SQLite file path or a `postgres://` URL.
    pub events: String,
    /// Days events are kept.
    pub retention_days: u32,
    /// Requests per minute per client on `/api/`; 0 turns the limit off.
    pub rate_limit: u32,
    /// The token `/admin` asks for; without one `/admin` is closed.
    pub admin_token: Option<String>,
    /// Where new tickets are POSTed.
    pub webhook: Option<String>,
    /// Take the client address for the rate limit from `X-Forwarded-For` (behind a proxy).
    pub trust_proxy: bool,
    /// Answers of `/api/search` kept in memory; 0 turns the cache off.
    pub search_cache: usize,
    /// Readers giving an outage answer within the window that raise the outage signal; 0 off.
    pub outage_threshold: u32,
    /// The outage signal's window, in minutes.
    pub outage_window_minutes: u32,
}

/// What the handlers of a production server share: the event writer, the store (for tickets
/// and the report), the ticket delivery task, the admin token.
#[derive(Debug, Clone)]
pub struct Live {
    /// Hands events to the writer.
    pub sink: EventSink,
    /// The event store.
    pub store: EventStore,
    /// Delivers tickets, when a webhook is configured.
    pub outbox: Option<Outbox>,
    /// The token `/admin` asks for.
    pub admin_token: Option<String>,
    /// Whether many readers report an outage right now.
    pub outage: Arc<super::triage::OutageSignal>,
}

/// The running production parts.
#[derive(Debug)]
pub struct Production {
    sink: EventSink,
    writer: JoinHandle<()>,
    purger: JoinHandle<()>,
    outbox: Option<(Outbox, JoinHandle<()>)>,
    store: EventStore,
    options: ProductionOptions,
    outage: Arc<super::triage::OutageSignal>,
    outage_task: JoinHandle<()>,
}

impl Production {
    /// Opens the event store (migrating it), purges expired events and starts the writer.
    pub async fn start(options: ProductionOptions) -> Result<Production, String> {
        let (store, problem) = EventStore::open_for_server(&options.events)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(e) = problem {
            eprintln!(
                "warning: {e}\n  Serving pages and search anyway; events and tickets are refused \
                 (503, {}) until the database can be written again.",
                e.reason()
            );
        }
        let purger = {
            let store = store.clone();
            let days = options.retention_days;
            tokio::spawn(async move {
                loop {
                    if let Err(e) = store.purge(days).await {
                        eprintln!("warning: {e} (expired events not purged)");
                    }
                    tokio::time::sleep(Duration::from_secs(6 * 3600)).await;
                }
            })
        };
        let (sink, writer) = EventSink::start(store.clone());
        let outbox = options
            .webhook
            .as_deref()
            .map(|url| Outbox::start(store.clone(), Webhook::new(url)));
        let outage = Arc::new(super::triage::OutageSignal::new(
            options.outage_threshold,
            options.outage_window_minutes,
        ));
        let outage_task = outage.clone().spawn(store.clone());
        Ok(Production {
            sink,
            writer,
            purger,
            outbox,
            store,
            options,
            outage,
            outage_task,
        })
    }

    /// Answers of `/api/search` to keep.
    pub fn search_cache(&self) -> usize {
        self.options.search_cache
    }

    /// What the handlers need.
    pub fn live(&self) -> Live {
        Live {
            sink: self.sink.clone(),
            store: self.store.clone(),
            outbox: self.outbox.as_ref().map(|(o, _)| o.clone()),
            admin_token: self.options.admin_token.clone(),
            outage: self.outage.clone(),
        }
    }

    /// `app` with the production layers: the rate limit on `/api/`, body limit, headers,
    /// compression.
    pub fn layers(&self, app: Router) -> Router {
        app.layer(DefaultBodyLimit::max(MAX_BODY))
            .layer(middleware::from_fn(refuse_declared_oversize))
            .layer(middleware::from_fn(cache_control))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("DENY"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::REFERRER_POLICY,
                HeaderValue::from_static("strict-origin-when-cross-origin"),
            ))
            .layer(CompressionLayer::new())
    }

    /// The per-client rate limit for the API routes, when one is set.
    pub fn api_limit(&self, api: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
        let per_minute = u64::from(self.options.rate_limit);
        if per_minute == 0 {
            return api;
        }
        // A client may burst a quarter of its minute, then one request per 60/rate seconds.
        let period = (60_000 / per_minute).max(1);
        let burst = (per_minute / 4).clamp(5, u64::from(u32::MAX)) as u32;
        self.governed(api, period, burst)
    }

    /// The stricter limit on filing tickets (each may reach a help desk): 5 at once, then one
    /// every 12 s per client. Off when the rate limit is off.
    pub fn ticket_limit(&self, route: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
        if self.options.rate_limit == 0 {
            return route;
        }
        self.governed(route, 12_000, 5)
    }

    fn governed(
        &self,
        router: Router<Arc<AppState>>,
        period_ms: u64,
        burst: u32,
    ) -> Router<Arc<AppState>> {
        if self.options.trust_proxy {
            let config = GovernorConfigBuilder::default()
                .per_millisecond(period_ms)
                .burst_size(burst)
                .key_extractor(ProxiedClientIp)
                .finish()
                .expect("a positive period and burst");
            router.layer(GovernorLayer::new(config).error_handler(too_many_requests))
        } else {
            let config = GovernorConfigBuilder::default()
                .per_millisecond(period_ms)
                .burst_size(burst)
                .finish()
                .expect("a positive period and burst");
            router.layer(GovernorLayer::new(config).error_handler(too_many_requests))
        }
    }

    /// Writes every queued event and stops. Call after the server stopped accepting requests.
    pub async fn finish(self) {
        let Production {
            sink,
            writer,
            purger,
            outbox,
            store,
            outage_task,
            ..
        } = self;
        purger.abort();
        outage_task.abort();
        // A delivery cut short is sent again after its lease expires: at least once.
        if let Some((_, task)) = outbox {
            task.abort();
        }
        drop(sink);
        // The writer ends when the last sender is gone and its queue is written.
        if tokio::time::timeout(Duration::from_secs(30), writer)
            .await
            .is_err()
        {
            eprintln!("warning: events were still being written after 30 s; stopping anyway");
        }
        store.close().await;
    }
}

/// The client behind a reverse proxy: the address the proxy appended last to
/// `X-Forwarded-For` (entries to its left are whatever the client sent, so they cannot be
/// trusted), else `X-Real-IP`, else the peer.
#[derive(Debug, Clone, Copy)]
struct ProxiedClientIp;

impl KeyExtractor for ProxiedClientIp {
    type Key = IpAddr;

    fn extract<T>(&self, request: &axum::http::Request<T>) -> Result<IpAddr, GovernorError> {
        let headers = request.headers();
        headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|s| s.trim().parse::<IpAddr>().ok())
            .or_else(|| {
                headers
                    .get("x-real-ip")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok())
            })
            .or_else(|| {
                request
                    .extensions()
                    .get::<axum::extract::ConnectInfo<SocketAddr>>()
                    .map(|c| c.ip())
            })
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

fn too_many_requests(e: GovernorError) -> Response<Body> {
    let wait = match &e {
        GovernorError::TooManyRequests { wait_time, .. } => *wait_time,
        _ => 1,
    };
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(serde_json::json!({
            "error": format!("too many requests from this address; try again in {wait} s")
        })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&wait.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// Cache headers: the API is never cached, theme assets for a day, pages revalidated (their
/// `Last-Modified` only changes when the build changed them).
async fn cache_control(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        let value = if path.starts_with("/api/") {
            "no-store"
        } else if path.starts_with("/_helpbook/") {
            "public, max-age=86400"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

/// 413 at once for a body declared larger than any endpoint takes: the server does not wait
/// for (or read) a body it would refuse anyway. Bodies without a length are cut off at the
/// same size as they arrive. Headers larger than a browser ever sends get 431.
async fn refuse_declared_oversize(request: Request, next: Next) -> Response {
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADERS {
        return error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "the request's headers are larger than {} KB",
                MAX_HEADERS / 1024
            ),
        );
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {} KB", MAX_BODY / 1024),
        );
    }
    next.run(request).await
}

/// A JSON error response.
pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

/// `POST /api/events`: one event object or an array of them. Answers 200 `{"stored": n}` only
/// once the events are committed; 400 names the event and field at fault; 503 asks the browser
/// to send them again.
pub(super) async fn api_events(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(sink) = state.events() else {
        return error(
            StatusCode::NOT_FOUND,
            "events are recorded only by `helpbook serve --production`",
        );
    };
    let body = match body {
        Ok(b) => b,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the body is larger than {} KB; send fewer events at once",
                    MAX_BODY / 1024
                ),
            );
        }
        Err(_) => return error(StatusCode::BAD_REQUEST, "the body could not be read"),
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not valid UTF-8");
    };
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not valid JSON: {e}"),
            );
        }
    };
    let (items, batch) = match value {
        serde_json::Value::Array(items) => (items, true),
        one => (vec![one], false),
    };
    if items.is_empty() || items.len() > MAX_EVENTS {
        return error(
            StatusCode::BAD_REQUEST,
            format!("send from 1 to {MAX_EVENTS} events at once"),
        );
    }
    let at = analytics::now_ms();
    let mut events = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let which = if batch {
            format!("event {}: ", i + 1)
        } else {
            String::new()
        };
        let event = serde_json::from_value::<ClientEvent>(item)
            .map_err(|e| format!("{which}{e}"))
            .and_then(|e| {
                e.validate(at, &state.built().triage)
                    .map_err(|e| format!("{which}{e}"))
            });
        match event {
            Ok(e) => events.push(e),
            Err(message) => return error(StatusCode::BAD_REQUEST, message),
        }
    }
    let count = events.len();
    match sink.store(events).await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "stored": count }))).into_response(),
        Err(SinkError::Closed) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is restarting; send the events again",
        ),
        // The writer has said what went wrong, once per batch.
        Err(SinkError::Store(e)) => {
            let mut response = error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the events were not stored: {}. Send them again later",
                    e.reason()
                ),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behind_a_proxy_the_client_is_the_address_the_proxy_added() {
        let request = |xff: &[&str]| {
            let mut r = axum::http::Request::builder();
            for v in xff {
                r = r.header("x-forwarded-for", *v);
            }
            r.body(()).unwrap()
        };
        let ip = |r: &axum::http::Request<()>| ProxiedClientIp.extract(r).unwrap().to_string();
        // What the client wrote is on the left; the proxy appends the address it saw.
        assert_eq!(ip(&request(&["6.6.6.6, 203.0.113.7"])), "203.0.113.7");
        assert_eq!(ip(&request(&["6.6.6.6", "203.0.113.7"])), "203.0.113.7");
        // Only the last entry is the proxy's: anything else there is not an address to trust.
        assert!(
            ProxiedClientIp
                .extract(&request(&["203.0.113.7, garbage"]))
                .is_err()
        );
        assert!(ProxiedClientIp.extract(&request(&[])).is_err());
    }
}

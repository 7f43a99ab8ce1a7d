//! The HTTP server: the built site's files, the search API, and the search page rendered on the
//! server so it works without JavaScript. In production (`serve --production`) it also records
//! what readers do (see [`crate::analytics`]), sends security, cache and compression headers,
//! and limits request sizes and rates.
//!
//! It reads the build's output and index and never builds anything itself. Hidden paths (the
//! index lives in `.helpbook/`) are not served.

mod admin;
mod escalation;
mod livereload;
mod production;
mod triage;

pub use production::{Live, MAX_BODY, MAX_EVENTS, Production, ProductionOptions};
pub use triage::{Outage, OutageSignal};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, get_service, post};
use tower_http::services::{ServeDir, ServeFile};

use crate::analytics::{self, Event, EventKind, EventSink};
use crate::content::{Audience, Kind, PageMeta, percent_decode, percent_decode_bytes, read_pages};
use crate::i18n::Locale;
use crate::markdown::escape_html;
use crate::search::{SearchIndex, SearchRequest, SearchResults};

/// Most results the API returns at once.
const MAX_LIMIT: usize = 50;
/// Results listed on the server-rendered page.
const PAGE_LIMIT: usize = 30;
/// The marker in `search.html` where results go.
const RESULTS_MARKER: &str = "<!--helpbook:search-results-->";
/// The query box of `search.html`, filled with the query.
const QUERY_MARKER: &str = "value=\"\" data-search-query";

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The built site.
    pub out_dir: PathBuf,
    /// What the handlers read from the build: replaced as a whole when the preview rebuilds.
    built: std::sync::RwLock<Arc<Built>>,
    /// The preview's live-reload channel (none in production).
    pub(crate) live_reload: Option<livereload::Channel>,
    /// The event store and its writers, in production.
    pub live: Option<Live>,
    /// Answers of `/api/search` already given (see [`SearchCache`]).
    cache: SearchCache,
    /// Searches running at once: one per core, so a burst queues instead of thrashing.
    searching: tokio::sync::Semaphore,
}

/// The last answers of `/api/search`, as sent. The site does not change while a server runs,
/// and readers ask the same questions (and type the same prefixes) over and over, so most
/// answers are a lookup: measured on the 10,000-page site, a search takes 0.5–4 ms of CPU, a
/// cached answer a few microseconds.
#[derive(Debug)]
struct SearchCache(Option<std::sync::Mutex<lru::LruCache<SearchKey, Arc<CachedAnswer>>>>);

/// A request as the cache tells them apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SearchKey {
    query: String,
    limit: usize,
    kind: Option<Kind>,
    audience: Option<Audience>,
}

/// An answer as sent, with what recording the search needs.
#[derive(Debug)]
struct CachedAnswer {
    query: String,
    total: usize,
    json: axum::body::Bytes,
    /// The query as it is stored (scrubbed, normalised, its script), worked out the first time
    /// the answer is recorded and reused by every later recording of it.
    stored: std::sync::OnceLock<StoredQuery>,
}

/// What a recorded search stores about its query.
#[derive(Debug)]
struct StoredQuery {
    query: String,
    normalized: String,
    lang: &'static str,
}

/// Answers kept by the preview server.
const CACHE_ENTRIES: usize = 4096;

impl SearchCache {
    /// A cache of `entries` answers; none for 0.
    fn new(entries: usize) -> SearchCache {
        SearchCache(
            std::num::NonZeroUsize::new(entries)
                .map(|n| std::sync::Mutex::new(lru::LruCache::new(n))),
        )
    }

    fn get(&self, key: &SearchKey) -> Option<Arc<CachedAnswer>> {
        self.0.as_ref()?.lock().ok()?.get(key).cloned()
    }

    fn clear(&self) {
        if let Some(Ok(mut cache)) = self.0.as_ref().map(|c| c.lock()) {
            cache.clear();
        }
    }

    fn put(&self, key: SearchKey, answer: Arc<CachedAnswer>) {
        if let Some(Ok(mut cache)) = self.0.as_ref().map(|c| c.lock()) {
            cache.put(key, answer);
        }
    }
}

/// What the server reads from a build.
#[derive(Debug)]
pub struct Built {
    /// The search index.
    pub index: Arc<SearchIndex>,
    /// `search.html` as built, with the markers the results page fills in.
    pub search_page: Option<String>,
    /// The pages as the build described them (for tickets), by URL path.
    pub pages: Arc<HashMap<String, PageMeta>>,
    /// The triage trees as the build described them (for triage events and tickets).
    pub triage: Vec<crate::triage::TreeMeta>,
}

impl Built {
    /// Reads what the build wrote to `out_dir`.
    fn read(out_dir: &Path) -> Result<Built, String> {
        Ok(Built {
            index: Arc::new(SearchIndex::open_output(out_dir).map_err(|e| e.to_string())?),
            search_page: Built::search_page(out_dir),
            pages: Arc::new(read_pages(out_dir)?),
            triage: crate::triage::read_meta(out_dir)?,
        })
    }

    fn search_page(out_dir: &Path) -> Option<String> {
        std::fs::read_to_string(out_dir.join("search.html")).ok()
    }
}

impl AppState {
    /// State for the site built into `out_dir`.
    pub fn open(out_dir: &Path) -> Result<AppState, String> {
        let built = Built::read(out_dir)?;
        Ok(AppState {
            out_dir: out_dir.to_path_buf(),
            built: std::sync::RwLock::new(Arc::new(built)),
            live_reload: None,
            live: None,
            cache: SearchCache::new(CACHE_ENTRIES),
            searching: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
        })
    }

    /// What the handlers read from the build, as it is now.
    pub fn built(&self) -> Arc<Built> {
        self.built.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Takes in what a preview rebuild changed: the index's new documents (or, with
    /// `reopen`, a new index altogether) and the files the build describes itself in. Answers
    /// remembered from before are forgotten.
    pub fn refresh(&self, reopen: bool) -> Result<(), String> {
        let old = self.built();
        let built = if reopen {
            Built::read(&self.out_dir)?
        } else {
            old.index.reload()?;
            Built {
                index: old.index.clone(),
                search_page: Built::search_page(&self.out_dir),
                // Only tickets and /admin read the page descriptions, and the preview, the one
                // server that rebuilds, takes neither: not parsed again on every save.
                pages: old.pages.clone(),
                triage: crate::triage::read_meta(&self.out_dir)?,
            }
        };
        *self.built.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(built);
        self.cache.clear();
        Ok(())
    }

    /// Where events go, in production.
    fn events(&self) -> Option<&EventSink> {
        self.live.as_ref().map(|l| &l.sink)
    }
}

/// The routes: `/api/search`, `/api/events`, `/search`, `/healthz`, then the site's files.
pub fn router(state: Arc<AppState>) -> Router {
    app(state, None)
}

/// The routes, with the production layers when `production` is given.
fn app(state: Arc<AppState>, production: Option<&Production>) -> Router {
    let not_found = ServeFile::new(state.out_dir.join("404.html"));
    let files = ServeDir::new(&state.out_dir)
        .append_index_html_on_directories(true)
        .not_found_service(not_found);
    // Pages of the site under /api/ (an API reference) are served like any other; what is
    // neither an endpoint nor a file gets the API's JSON 404.
    let api_files = get_service(
        ServeDir::new(&state.out_dir)
            .append_index_html_on_directories(true)
            .not_found_service(api_not_found.into_service()),
    )
    .fallback(api_not_found);
    let tickets = Router::new().route("/api/tickets", post(escalation::api_tickets));
    let tickets = match production {
        Some(p) => p.ticket_limit(tickets),
        None => tickets,
    };
    let api = Router::new()
        .route("/api/search", get(api_search))
        .route("/api/events", post(production::api_events))
        .route("/api/triage", post(triage::api_triage))
        .merge(tickets)
        .route("/api/{*rest}", api_files);
    let admin = admin::routes(state.clone());
    let (api, admin) = match production {
        Some(p) => (p.api_limit(api), p.api_limit(admin)),
        None => (api, admin),
    };
    let mut site = Router::new()
        .route("/search", get(search_page))
        .route("/healthz", get(|| async { "ok\n" }));
    if state.live_reload.is_some() {
        site = site
            .route(livereload::EVENTS_PATH, get(livereload::events))
            .route(livereload::SCRIPT_PATH, get(livereload::script));
    }
    let mut site =
        site.merge(api)
            .merge(admin)
            .fallback_service(files)
            .layer(middleware::from_fn_with_state(
                state.clone(),
                triage::outage_banner,
            ));
    // Inside the production layers, so a compressed response would carry the script too.
    if state.live_reload.is_some() {
        site = site.layer(middleware::from_fn(livereload::inject));
    }
    let site = site
        .layer(middleware::from_fn(refuse_hidden))
        .with_state(state);
    match production {
        Some(p) => p.layers(site),
        None => site,
    }
}

/// Serves the site in `out_dir` on `addr` until Ctrl+C (or SIGTERM); `ready` is told the bound
/// address. With `production`, events are recorded and the production layers are on; a graceful
/// shutdown writes every queued event before it returns.
pub fn serve_blocking(
    out_dir: &Path,
    addr: &str,
    production: Option<ProductionOptions>,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let mut state = AppState::open(out_dir)?;
    let runtime = runtime()?;
    runtime.block_on(async move {
        let production = match production {
            Some(options) => Some(Production::start(options).await?),
            None => None,
        };
        state.live = production.as_ref().map(|p| p.live());
        if let Some(p) = &production {
            state.cache = SearchCache::new(p.search_cache());
        }
        let app = app(Arc::new(state), production.as_ref());
        let (listener, local) = listen(addr).await?;
        ready(local);
        serve_connections(listener, app, shutdown_signal()).await;
        if let Some(production) = production {
            production.finish().await;
        }
        Ok(())
    })
}

/// The writer preview's handle on its running server.
#[derive(Debug, Clone)]
pub struct PreviewServer {
    state: Arc<AppState>,
    channel: livereload::Channel,
}

impl PreviewServer {
    /// Sends a message (JSON) to every open page: see `livereload.js` for what it may say.
    pub fn publish(&self, message: &str) {
        self.channel.send(message);
    }

    /// Takes in a rebuild: the index's new documents (`reopen`: a new index altogether) and
    /// the build's descriptions of its pages and trees.
    pub fn refresh(&self, reopen: bool) -> Result<(), String> {
        self.state.refresh(reopen)
    }
}

/// Serves the writer preview of the site built in `out_dir` on `addr` until Ctrl+C: the files
/// and the search as [`serve_blocking`] does without production, plus live reload. `ready` is
/// told the bound address and given the handle that pushes rebuilds to the open pages; it runs
/// before the first request is answered.
pub fn serve_preview(
    out_dir: &Path,
    addr: &str,
    ready: impl FnOnce(SocketAddr, PreviewServer),
) -> Result<(), String> {
    let mut state = AppState::open(out_dir)?;
    let runtime = runtime()?;
    let (closing_tx, closing) = tokio::sync::watch::channel(false);
    let channel = livereload::Channel::new(closing);
    state.live_reload = Some(channel.clone());
    let state = Arc::new(state);
    runtime.block_on(async move {
        let app = app(state.clone(), None);
        let (listener, local) = listen(addr).await?;
        ready(local, PreviewServer { state, channel });
        let shutdown = async move {
            shutdown_signal().await;
            // Open event streams end, so the shutdown does not wait for the pages to close.
            let _ = closing_tx.send(true);
        };
        serve_connections(listener, app, shutdown).await;
        Ok(())
    })
}

/// A client's whole request header must arrive within this time, and an idle kept-alive
/// connection is closed after it: a client that sends half a header cannot hold a connection
/// (and its file descriptor) open for ever.
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Requests in flight at shutdown get this long to finish.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Accepts connections on `listener` and serves `app` on each (HTTP/1.1, keep-alive) until
/// `shutdown` completes; then waits, bounded, for the requests in flight.
async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, or a connection reset before it was accepted: the
                // listener itself is fine; wait a moment rather than spin.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = WithPeer {
            app: app.clone(),
            peer,
        };
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that goes away mid-request is no concern of the server's.
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

/// `app` for one connection: every request carries the client's address, for
/// `ConnectInfo` (the rate limit).
#[derive(Clone)]
struct WithPeer {
    app: Router,
    peer: SocketAddr,
}

impl hyper::service::Service<hyper::Request<hyper::body::Incoming>> for WithPeer {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = axum::routing::future::RouteFuture<std::convert::Infallible>;

    fn call(&self, mut request: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        tower_service::Service::call(&mut self.app.clone(), request.map(axum::body::Body::new))
    }
}

/// The server's runtime: one worker per core.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server runtime: {e}"))
}

/// Listens on `addr`; the address bound (the port chosen, for port 0).
async fn listen(addr: &str) -> Result<(tokio::net::TcpListener, SocketAddr), String> {
    let fail = |e: std::io::Error| format!("cannot listen on {addr}: {e}");
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(fail)?;
    let local = listener.local_addr().map_err(fail)?;
    Ok((listener, local))
}

/// Ctrl+C, or SIGTERM (what container runtimes and systemd send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn api_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": "no such API endpoint; see README.md, \"Server\"" })),
    )
        .into_response()
}

/// 404 for any path with a segment starting with `.` (the index, editor files), encoded or not.
async fn refuse_hidden(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let hidden = |p: &str| {
        p.split(['/', '\\']).any(|seg| {
            seg.starts_with('.') || seg.get(..3).is_some_and(|s| s.eq_ignore_ascii_case("%2e"))
        })
    };
    if hidden(path) || hidden(&percent_decode(path)) {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    next.run(request).await
}

/// A client error with a JSON body naming the parameter and the fix.
fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}

/// The request parameters, validated.
pub(crate) fn request_from(
    params: &HashMap<String, String>,
    default_limit: usize,
) -> Result<SearchRequest, String> {
    let limit = match params.get("limit").map(|s| s.trim()) {
        None | Some("") => default_limit,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                format!("limit must be a whole number from 1 to {MAX_LIMIT}, not `{s}`")
            })?
            .min(MAX_LIMIT),
    };
    let kind = match params.get("kind").map(|s| s.trim()) {
        None | Some("") => None,
        Some(k) => Some(Kind::from_name(k).ok_or_else(|| {
            format!(
                "kind `{k}` is unknown; use one of guide, troubleshooting, reference, playbook, faq"
            )
        })?),
    };
    let audience = match params.get("audience").map(|s| s.trim()) {
        None | Some("") => None,
        Some(a) => Some(Audience::from_name(a).ok_or_else(|| {
            format!("audience `{a}` is unknown; use one of teacher, student, developer, admin, support, everyone")
        })?),
    };
    Ok(SearchRequest {
        query: params.get("q").cloned().unwrap_or_default(),
        limit,
        kind,
        audience,
    })
}

async fn api_search(
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
    params: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // The form decoder replaces bytes that are not UTF-8; a client that sent them gets told.
    let utf8 = uri
        .query()
        .is_none_or(|q| form_text(q.as_bytes()).is_some());
    let (true, Ok(Query(params))) = (utf8, params) else {
        return bad_request("the query string is not valid: encode it as UTF-8 form data".into());
    };
    let request = match request_from(&params, 10) {
        Ok(r) => r,
        Err(message) => return bad_request(message),
    };
    let session = params
        .get("session")
        .filter(|s| analytics::check_id("session", s).is_ok());
    let search_id = params
        .get("search_id")
        .filter(|s| analytics::check_id("search_id", s).is_ok());
    if state.live.is_some() && request.query.chars().count() > MAX_PRODUCTION_QUERY {
        return bad_request(format!(
            "q is longer than {MAX_PRODUCTION_QUERY} characters; shorten the question"
        ));
    }
    let filters = filters_of(&request);
    let key = SearchKey {
        query: request.query.clone(),
        limit: request.limit,
        kind: request.kind,
        audience: request.audience,
    };
    let answer = match state.cache.get(&key) {
        Some(answer) => answer,
        None => {
            let Some(results) = run_search(&state, request).await else {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(serde_json::json!({ "error": "the search failed; try again" })),
                )
                    .into_response();
            };
            let answer = Arc::new(CachedAnswer {
                json: serde_json::to_vec(&results)
                    .expect("results serialise")
                    .into(),
                query: results.query,
                total: results.total,
                stored: std::sync::OnceLock::new(),
            });
            state.cache.put(key, answer.clone());
            answer
        }
    };
    if let (Some(sink), Some(session)) = (state.events(), session) {
        record_search(&state, sink, session, search_id, &answer, filters).await;
    }
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "application/json"),
        ],
        answer.json.clone(),
    )
        .into_response()
}

/// Longest query the production server accepts.
pub const MAX_PRODUCTION_QUERY: usize = 200;

/// `kind=…&audience=…` of a request (empty without filters).
fn filters_of(request: &SearchRequest) -> String {
    let mut parts = Vec::new();
    if let Some(k) = request.kind {
        parts.push(format!("kind={}", k.as_str()));
    }
    if let Some(a) = request.audience {
        parts.push(format!("audience={}", a.as_str()));
    }
    parts.join("&")
}

/// Queues a search event. The keystrokes of one search-as-you-type session come with one
/// `search_id` and the store keeps the last; a request without one is a search of its own.
async fn record_search(
    state: &AppState,
    sink: &EventSink,
    session: &str,
    search_id: Option<&String>,
    answer: &CachedAnswer,
    filters: String,
) {
    let stored = answer.stored.get_or_init(|| {
        let query = analytics::scrub(analytics::clean_text(answer.query.trim(), false).trim());
        StoredQuery {
            normalized: state.built().index.normalize(&query),
            lang: if query.chars().any(crate::search::is_cjk) {
                "zh"
            } else {
                "en"
            },
            query,
        }
    });
    if stored.query.is_empty() {
        return;
    }
    let search_id = search_id.cloned().unwrap_or_else(analytics::random_id);
    let event = Event {
        at: analytics::now_ms(),
        session: session.to_string(),
        kind: EventKind::Search {
            search_id,
            normalized: stored.normalized.clone(),
            lang: stored.lang.into(),
            results: answer.total as i64,
            query: stored.query.clone(),
            filters,
        },
    };
    sink.record(vec![event]).await;
}

/// Searches on the blocking pool (a query is CPU work), at most one per core at a time. `None`
/// when the search could not run (the server is stopping, or the search failed).
async fn run_search(state: &Arc<AppState>, request: SearchRequest) -> Option<SearchResults> {
    let _permit = state.searching.acquire().await.ok()?;
    let state = state.clone();
    tokio::task::spawn_blocking(move || state.built().index.search(&request))
        .await
        .ok()
}

async fn search_page(
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
    params: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let built = state.built();
    let Some(shell) = &built.search_page else {
        return (StatusCode::NOT_FOUND, "this site has no search page\n").into_response();
    };
    let locale = built.index.locale();
    let utf8 = uri
        .query()
        .is_none_or(|q| form_text(q.as_bytes()).is_some());
    let (true, Ok(Query(params))) = (utf8, params) else {
        return refused_search_page(shell, "", locale.get("search_unreadable"));
    };
    if let Some(q) = params.get("q")
        && state.live.is_some()
        && q.chars().count() > MAX_PRODUCTION_QUERY
    {
        let kept: String = q.chars().take(MAX_PRODUCTION_QUERY).collect();
        let message = locale
            .get("search_too_long")
            .replace("{max}", &MAX_PRODUCTION_QUERY.to_string());
        return refused_search_page(shell, &kept, &message);
    }
    // A bad filter on the page is dropped rather than refused: the page still answers.
    let mut request = request_from(&params, PAGE_LIMIT).unwrap_or_else(|_| SearchRequest {
        query: params.get("q").cloned().unwrap_or_default(),
        limit: PAGE_LIMIT,
        ..SearchRequest::default()
    });
    request.limit = PAGE_LIMIT;
    let kind = request.kind;
    let query = request.query.clone();
    let results = run_search(&state, request)
        .await
        .unwrap_or_else(|| SearchResults::empty(query));
    let html = fill_search_page(shell, &results, kind, built.index.locale());
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// A form body or query string as text, when it is UTF-8 both as sent and once its `%XX`
/// escapes are decoded (the form decoder would quietly replace bytes that are not).
pub(crate) fn form_text(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    std::str::from_utf8(&percent_decode_bytes(text))
        .is_ok()
        .then_some(text)
}

/// `search.html` answering 400: the query box holds `query`, and `message` says what to change.
fn refused_search_page(shell: &str, query: &str, message: &str) -> Response {
    let html = shell
        .replacen(
            QUERY_MARKER,
            &format!("value=\"{}\" data-search-query", escape_html(query)),
            1,
        )
        .replacen(
            RESULTS_MARKER,
            &format!(
                "<p class=\"search-summary\" role=\"alert\">{}</p>",
                escape_html(message)
            ),
            1,
        );
    (
        StatusCode::BAD_REQUEST,
        [(header::CACHE_CONTROL, "no-store")],
        Html(html),
    )
        .into_response()
}

/// `search.html` with the query, the kind filter and the results filled in.
pub fn fill_search_page(
    shell: &str,
    results: &SearchResults,
    kind: Option<Kind>,
    locale: Locale,
) -> String {
    let mut html = shell.replacen(
        QUERY_MARKER,
        &format!(
            "value=\"{}\" data-search-query",
            escape_html(&results.query)
        ),
        1,
    );
    if let Some(kind) = kind {
        let option = format!("<option value=\"{}\">", kind.as_str());
        html = html.replacen(
            &option,
            &format!("<option value=\"{}\" selected>", kind.as_str()),
            1,
        );
    }
    html.replacen(RESULTS_MARKER, &results_html(results, locale), 1)
}

/// The results as HTML (the markup the theme styles).
pub fn results_html(results: &SearchResults, locale: Locale) -> String {
    use std::fmt::Write;
    let query = results.query.trim();
    let strong = format!("<strong>{}</strong>", escape_html(query));
    let say = |key: &str| escape_html(locale.get(key));
    let mut out = String::new();
    if results.reason_code == Some("empty-query") {
        let _ = write!(
            out,
            "<p class=\"search-summary\" role=\"status\">{}</p>",
            say("search_empty_query")
        );
        return out;
    }
    if results.results.is_empty() {
        let _ = write!(
            out,
            "<p class=\"search-summary\" role=\"status\">{}</p>",
            say("search_no_results").replace("{query}", &strong)
        );
        if let Some(reason) = &results.reason {
            let _ = write!(
                out,
                "<p class=\"search-reason\">{}</p>",
                escape_html(reason)
            );
        }
        return out;
    }
    let summary = if results.total == 1 {
        say("search_results_one")
    } else {
        say("search_results_many")
    };
    let _ = write!(
        out,
        "<p class=\"search-summary\" role=\"status\">{}</p>",
        summary
            .replace("{count}", &results.total.to_string())
            .replace("{query}", &strong)
    );
    if results.fuzzy {
        let _ = write!(out, "<p class=\"search-note\">{}</p>", say("search_fuzzy"));
    }
    out.push_str("<ol class=\"search-results-list\">");
    for hit in &results.results {
        let href = escape_html(hit.url.trim_start_matches('/'));
        let section = if hit.section.is_empty() {
            String::new()
        } else {
            format!(
                " <span class=\"search-result-section\">{}</span>",
                escape_html(&hit.section)
            )
        };
        let kind = locale.get(&format!("kind_{}", hit.kind));
        let _ = write!(
            out,
            "<li class=\"search-result\"><a class=\"search-result-link\" href=\"{href}\"><span class=\"search-result-title\">{}</span>{section}</a> <span class=\"search-result-kind\">{}</span>",
            escape_html(&hit.title),
            escape_html(if kind.is_empty() { &hit.kind } else { kind }),
        );
        if !hit.snippet.is_empty() {
            // The snippet is already escaped, with <mark> around matches.
            let _ = write!(
                out,
                "<p class=\"search-result-snippet\">{}</p>",
                hit.snippet
            );
        }
        out.push_str("</li>");
    }
    out.push_str("</ol>");
    out
}

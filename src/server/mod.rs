//! The HTTP server: the built site's files, the search API, and the search page rendered on the
//! server so it works without JavaScript.
//!
//! It reads the build's output and index and never builds anything itself. Hidden paths (the
//! index lives in `.helpbook/`) are not served.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::get;
use tower_http::services::{ServeDir, ServeFile};

use crate::content::{Audience, Kind, percent_decode};
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
    /// Its search index.
    pub index: SearchIndex,
    /// `search.html` as built, with the markers the results page fills in.
    pub search_page: Option<String>,
}

impl AppState {
    /// State for the site built into `out_dir`.
    pub fn open(out_dir: &Path) -> Result<AppState, String> {
        let index = SearchIndex::open_output(out_dir).map_err(|e| e.to_string())?;
        let search_page = std::fs::read_to_string(out_dir.join("search.html")).ok();
        Ok(AppState {
            out_dir: out_dir.to_path_buf(),
            index,
            search_page,
        })
    }
}

/// The routes: `/api/search`, `/search`, `/healthz`, then the site's files.
pub fn router(state: Arc<AppState>) -> Router {
    let not_found = ServeFile::new(state.out_dir.join("404.html"));
    let files = ServeDir::new(&state.out_dir)
        .append_index_html_on_directories(true)
        .not_found_service(not_found);
    Router::new()
        .route("/api/search", get(api_search))
        .route("/search", get(search_page))
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback_service(files)
        .layer(middleware::from_fn(refuse_hidden))
        .with_state(state)
}

/// Serves the site in `out_dir` on `addr` until Ctrl+C; `ready` is told the bound address.
pub fn serve_blocking(
    out_dir: &Path,
    addr: &str,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let state = Arc::new(AppState::open(out_dir)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener
            .local_addr()
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        ready(local);
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| format!("server error: {e}"))
    })
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
fn request_from(
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
    params: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return bad_request("the query string is not valid: encode it as UTF-8 form data".into());
    };
    let request = match request_from(&params, 10) {
        Ok(r) => r,
        Err(message) => return bad_request(message),
    };
    let results = run_search(&state, request).await;
    ([(header::CACHE_CONTROL, "no-store")], Json(results)).into_response()
}

/// Searches on the blocking pool: a query is CPU work.
async fn run_search(state: &Arc<AppState>, request: SearchRequest) -> SearchResults {
    let state = state.clone();
    let query = request.query.clone();
    tokio::task::spawn_blocking(move || state.index.search(&request))
        .await
        .unwrap_or_else(|_| SearchResults::empty(query))
}

async fn search_page(
    State(state): State<Arc<AppState>>,
    params: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(shell) = &state.search_page else {
        return (StatusCode::NOT_FOUND, "this site has no search page\n").into_response();
    };
    let params = params.map(|Query(p)| p).unwrap_or_default();
    // A bad filter on the page is dropped rather than refused: the page still answers.
    let mut request = request_from(&params, PAGE_LIMIT).unwrap_or_else(|_| SearchRequest {
        query: params.get("q").cloned().unwrap_or_default(),
        limit: PAGE_LIMIT,
        ..SearchRequest::default()
    });
    request.limit = PAGE_LIMIT;
    let kind = request.kind;
    let results = run_search(&state, request).await;
    let html = fill_search_page(shell, &results, kind, state.index.locale());
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
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

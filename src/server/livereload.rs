//! Live reload for the writer preview: an event stream at [`EVENTS_PATH`], and a script
//! injected into every HTML page the preview serves that reloads the page when it was rebuilt,
//! swaps the stylesheets when only CSS changed, keeps the scroll position across a reload, and
//! shows the content's errors over the page until they are fixed.
//!
//! The script is added to the response, not to the files: the output folder is the same as a
//! production build's. It is added to the uncompressed body, inside any compression layer, so
//! it survives `Accept-Encoding`. Server-sent events rather than a WebSocket: one-way is all a
//! reload needs, they reconnect by themselves, and they need no extra dependency.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::{broadcast, watch};

use super::AppState;

/// The event stream.
pub(crate) const EVENTS_PATH: &str = "/_helpbook/live";
/// The injected script.
pub(crate) const SCRIPT_PATH: &str = "/_helpbook/live.js";

/// The script tag added before `</body>`.
const SCRIPT_TAG: &str = "<script src=\"/_helpbook/live.js\" defer></script>";

/// Largest page the injection buffers (a bigger one is served as it is).
const MAX_PAGE: usize = 32 << 20;

/// Messages to every open preview page. The latest one is kept and sent first to a page that
/// connects later, so a page opened while the content has errors shows them at once.
#[derive(Debug, Clone)]
pub(crate) struct Channel {
    sender: broadcast::Sender<Arc<str>>,
    latest: Arc<Mutex<Arc<str>>>,
    /// Set when the server shuts down: open streams end, so shutdown does not wait for them.
    closing: watch::Receiver<bool>,
}

impl Channel {
    /// A channel whose streams end when `closing` turns true.
    pub(crate) fn new(closing: watch::Receiver<bool>) -> Channel {
        let (sender, _) = broadcast::channel(64);
        Channel {
            sender,
            latest: Arc::new(Mutex::new(Arc::from(
                "{\"type\":\"status\",\"version\":0,\"problems\":[]}",
            ))),
            closing,
        }
    }

    /// Sends `message` (JSON) to every open page and keeps it for pages opened later.
    pub(crate) fn send(&self, message: &str) {
        let message: Arc<str> = Arc::from(message);
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = message.clone();
        // No receiver (no page open) is not an error.
        let _ = self.sender.send(message);
    }

    fn latest(&self) -> Arc<str> {
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// `GET /_helpbook/live`: the stream of preview messages, starting with the latest.
pub(crate) async fn events(State(state): State<Arc<AppState>>) -> Response {
    let Some(channel) = &state.live_reload else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let first = channel.latest();
    let receiver = channel.sender.subscribe();
    let closing = channel.closing.clone();
    let first = futures_util::stream::once(async move {
        Ok::<Event, Infallible>(Event::default().data(&*first))
    });
    let rest = futures_util::stream::unfold(
        (receiver, closing),
        |(mut receiver, mut closing)| async move {
            loop {
                if *closing.borrow() {
                    return None;
                }
                tokio::select! {
                    message = receiver.recv() => match message {
                        Ok(m) => {
                            return Some((Ok(Event::default().data(&*m)), (receiver, closing)));
                        }
                        // A page that fell behind skips to the next message.
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    },
                    changed = closing.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                    }
                }
            }
        },
    );
    let stream = futures_util::StreamExt::chain(first, rest);
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /_helpbook/live.js`.
pub(crate) async fn script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        include_str!("livereload.js"),
    )
        .into_response()
}

/// Adds the live-reload script to HTML responses, and asks the browser not to keep any
/// response: every load shows the files as they are now.
pub(crate) async fn inject(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let (mut parts, body) = response.into_parts();
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let html = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let encoded = parts.headers.contains_key(header::CONTENT_ENCODING);
    // Whole pages only (a page or the 404 page), not a range of one.
    let whole = matches!(parts.status, StatusCode::OK | StatusCode::NOT_FOUND);
    if !html || encoded || !whole {
        return Response::from_parts(parts, body);
    }
    let bytes = match axum::body::to_bytes(body, MAX_PAGE).await {
        Ok(b) => b,
        Err(_) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "cannot read the page\n").into_response();
        }
    };
    let page = String::from_utf8_lossy(&bytes);
    let with_script = match page.rfind("</body>") {
        Some(at) => format!("{}{SCRIPT_TAG}{}", &page[..at], &page[at..]),
        None => format!("{page}{SCRIPT_TAG}"),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    // The page is new on every rebuild: validators of the file would be wrong.
    parts.headers.remove(header::ETAG);
    parts.headers.remove(header::LAST_MODIFIED);
    Response::from_parts(parts, Body::from(with_script))
}

//! `POST /api/tickets`: the "Still stuck?" form. The ticket gets what the reader already tried
//! (from the event store), the page they were on with its version, and a priority from that
//! page's severity; it is stored with its webhook delivery, and the reader is shown its id.
//!
//! The form works without JavaScript: posted as form fields, the answer is a small page instead
//! of JSON.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Response};

use super::AppState;
use super::production::{MAX_BODY, error};
use crate::analytics::{self, Priority, Ticket, TicketPage, TicketRequest};
use crate::i18n::Locale;
use crate::markdown::escape_html;

/// Handles a ticket posted as JSON or as form fields.
pub(super) async fn api_tickets(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let locale = state.built().index.locale();
    let answer = |status: StatusCode, message: String| {
        if form {
            failure_page(status, &message, locale)
        } else {
            error(status, message)
        }
    };
    let Some(live) = &state.live else {
        return answer(
            StatusCode::NOT_FOUND,
            "tickets are taken only by `helpbook serve --production`".into(),
        );
    };
    let body = match body {
        Ok(b) => b,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request is larger than {} KB; shorten the description",
                    MAX_BODY / 1024
                ),
            );
        }
        Err(_) => return answer(StatusCode::BAD_REQUEST, "the body could not be read".into()),
    };
    let text = if form {
        super::form_text(&body)
    } else {
        std::str::from_utf8(&body).ok()
    };
    let Some(text) = text else {
        return answer(
            StatusCode::BAD_REQUEST,
            "the body is not valid UTF-8".into(),
        );
    };
    let request: Result<TicketRequest, String> = if form {
        TicketRequest::from_form(text)
    } else {
        serde_json::from_str(text).map_err(|e| format!("the body is not valid JSON: {e}"))
    };
    let new = match request.and_then(TicketRequest::validate) {
        Ok(t) => t,
        Err(message) => return answer(StatusCode::BAD_REQUEST, message),
    };

    // Searches are queued without waiting for their commit; an empty batch through the same
    // writer returns once everything queued before it is written, so the context is complete.
    let _ = live.sink.store(Vec::new()).await;
    let tried = match live.store.session_context(&new.session).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("warning: {e} (ticket filed without the session's history)");
            Default::default()
        }
    };
    let built = state.built();
    let meta = new.url.as_deref().and_then(|u| built.pages.get(u));
    let page = new.url.as_ref().map(|url| TicketPage {
        url: url.clone(),
        title: meta.map(|m| m.title.clone()).unwrap_or_default(),
        version: meta.map(|m| m.version.clone()),
        updated: meta.and_then(|m| m.updated.clone()),
        severity: meta
            .and_then(|m| m.severity)
            .map(|s| s.as_str().to_string()),
    });
    // Filed from a triage tree: the answers go with the ticket, and the most severe of them
    // (or the page's severity) sets its priority.
    let triage = match &new.triage {
        Some((tree, path)) => match analytics::escalation(&built.triage, tree, path) {
            Ok(found) => Some(found),
            Err(message) => return answer(StatusCode::BAD_REQUEST, message),
        },
        None => None,
    };
    let severity = [
        meta.and_then(|m| m.severity),
        triage.as_ref().and_then(|t| t.2),
    ]
    .into_iter()
    .flatten()
    .min();
    let at = analytics::now_ms();
    let mut ticket = Ticket {
        id: analytics::ticket_id(),
        created_at: analytics::rfc3339(at),
        priority: Priority::from_severity(severity),
        contact: new.contact,
        description: new.description,
        page,
        query: new.query,
        session: new.session,
        tried,
        triage: triage.as_ref().map(|t| t.1.clone()),
    };
    let mut stored = live
        .store
        .insert_ticket(&ticket, at, live.outbox.is_some())
        .await;
    if let Ok(false) = stored {
        // A clash of random ids is next to impossible; a second id settles it.
        ticket.id = analytics::ticket_id();
        stored = live
            .store
            .insert_ticket(&ticket, at, live.outbox.is_some())
            .await;
    }
    if !matches!(stored, Ok(true)) {
        let (e, reason) = match stored {
            Err(e) => (e.to_string(), e.reason()),
            _ => (
                "two ticket ids in a row were taken".into(),
                "the server could not number it",
            ),
        };
        eprintln!("error: {e} (ticket not stored)");
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the ticket could not be stored: {reason}. Try again in a minute"),
        );
    }
    if let Some(outbox) = &live.outbox {
        outbox.wake();
    }
    if let Some((kind, ..)) = triage {
        let event = analytics::Event {
            at,
            session: ticket.session.clone(),
            kind,
        };
        // The ticket is stored; its triage event is best effort (the report would count the
        // tree as abandoned without it).
        if let Err(e) = live.sink.store(vec![event]).await {
            eprintln!("warning: {e:?} (escalation not recorded in the triage report)");
        }
    }
    if form {
        return sent_page(&ticket, locale);
    }
    (
        StatusCode::CREATED,
        Json(serde_json::json!({
            "id": ticket.id,
            "priority": ticket.priority,
            "message": locale.get("ticket_sent").replace("{id}", &ticket.id),
        })),
    )
        .into_response()
}

/// A page of its own for a form posted without JavaScript, titled by the interface string
/// `title`.
pub(super) fn small_page(
    status: StatusCode,
    locale: Locale,
    title: &str,
    body: &str,
    back: Option<&str>,
) -> Response {
    let back = back.map_or(String::new(), |url| {
        format!(
            "<p><a href=\"{}\">{}</a></p>",
            escape_html(url),
            escape_html(locale.get("ticket_back"))
        )
    });
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/_helpbook/style.css\"></head>\
         <body><main id=\"content\" class=\"ticket-answer\"><h1>{title}</h1>{body}{back}</main></body></html>\n",
        lang = locale.html_lang(),
        title = escape_html(locale.get(title)),
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

fn sent_page(ticket: &Ticket, locale: Locale) -> Response {
    let text = escape_html(locale.get("ticket_sent")).replace(
        "{id}",
        &format!("<strong class=\"ticket-id\">{}</strong>", ticket.id),
    );
    small_page(
        StatusCode::CREATED,
        locale,
        "stuck_title",
        &format!("<p role=\"status\">{text}</p>"),
        Some(ticket.page.as_ref().map_or("/", |p| p.url.as_str())),
    )
}

fn failure_page(status: StatusCode, reason: &str, locale: Locale) -> Response {
    let text = escape_html(locale.get("ticket_failed")).replace("{reason}", &escape_html(reason));
    small_page(
        status,
        locale,
        "stuck_title",
        &format!("<p role=\"alert\">{text}</p>"),
        None,
    )
}

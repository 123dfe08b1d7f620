//! The mission-control board, served by `serve` beside `/metrics` and the API:
//!
//! - `/` — one tile per BPM, worst first: the ratio over its shortest window (the others
//!   below it), the expected band, the state in words and colour, a 24 h chart (one point
//!   per 5 minutes of countable runs, band shaded, change events flagged) and, for a BPM out
//!   of band, **what changed**: the change events from an hour before it left its band
//!   until now (`band.rs` defines "left its band"). Then every probe: kind, last attempt with
//!   its reason, last success, last failure, next run (last start + `every`), runbook and
//!   incident links.
//! - `/runs/{id}` — one attempt: outcome, reason, where it happened and the message, the
//!   prerequisite checks, the step timeline, the screenshot inline, links to every artifact,
//!   and the run's other attempts.
//! - `/runs/{id}/artifacts/{name}` — an artifact of that run (`files.rs` says what is
//!   refused).
//! - `/assets/{name}` — uPlot and the board's own CSS and script, embedded in the binary.
//!
//! Pages are rendered on the server from the plan and the history, as BPM ratios are:
//! errors never count. Every string from history or configuration is escaped
//! (`html::Esc`); pages carry a Content-Security-Policy that allows only this server's
//! own scripts, styles and images, so a string that slipped through could still not run.
//! Reads only: nothing here writes to the history.

mod band;
mod board_page;
mod deps;
mod files;
mod html;
mod now;
mod run_page;
mod series;
mod view;

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::service::Shared;
use crate::time::unix;

/// What board pages may load: only this server's own files; no inline script or style.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(board))
        .route("/runs/{id}", get(run))
        .route("/runs/{id}/artifacts/{name}", get(artifact))
        .route("/assets/{name}", get(asset))
}

fn html_page(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> Response {
    tracing::error!("board: cannot read {what} from history: {e}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("cannot read {what} from the history: {e}\n"),
    )
        .into_response()
}

async fn board(State(s): State<Arc<Shared>>) -> Response {
    match view::gather(&s).await {
        Ok(b) => {
            let mut resp = html_page(board_page::render(&b));
            // The demo frames the fault lab's switch page: allow exactly that origin.
            if let Some(origin) = b.lab_url.as_deref().and_then(origin_of) {
                let csp = format!("{PAGE_CSP}; frame-src {origin}");
                if let Ok(v) = header::HeaderValue::from_str(&csp) {
                    resp.headers_mut()
                        .insert(header::CONTENT_SECURITY_POLICY, v);
                }
            }
            resp
        }
        Err(e) => unavailable("the board", e),
    }
}

/// `http://host:port` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(u.origin().ascii_serialization()).filter(|o| o != "null")
}

async fn run(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return files::not_found("runs are numbered");
    };
    let stored = match s.history.run(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return files::not_found("no such run (pruned, or never stored)"),
        Err(e) => return unavailable("the run", e),
    };
    let attempts = match s
        .history
        .attempts_of(stored.first_id.unwrap_or(stored.id))
        .await
    {
        Ok(a) => a,
        Err(e) => return unavailable("the run's attempts", e),
    };
    let now = unix(SystemTime::now());
    html_page(run_page::render(&stored, &attempts, now))
}

async fn artifact(
    State(s): State<Arc<Shared>>,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let (Ok(id), Some(root)) = (id.parse::<i64>(), s.settings.artifacts.clone()) else {
        return files::not_found("no such artifact");
    };
    match s.history.run(id).await {
        Ok(Some(r)) => files::artifact(root, run_page::listed_artifacts(&r), name).await,
        Ok(None) => files::not_found("no such run"),
        Err(e) => unavailable("the run", e),
    }
}

async fn asset(Path(name): Path<String>) -> Response {
    files::asset(&name)
}

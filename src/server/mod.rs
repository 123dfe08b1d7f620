//! `serve`'s HTTP side: `/metrics` (Prometheus text, or OpenMetrics when asked), `/healthz`
//! (the process is alive), `/readyz` (a plan is loaded and, when it has journeys, the
//! WebDriver is there), the JSON API ([`api`]) and the mission-control board ([`board`]).

pub mod api;
pub mod board;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::metrics::{
    OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, encode_openmetrics, wants_openmetrics,
};
use crate::service::Shared;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/api/v1/events", get(api::get_events).post(api::post_event))
        .route("/api/v1/bpms", get(api::get_bpms))
        .route("/api/v1/runs", get(api::get_runs))
        .merge(board::routes())
        .layer(axum::extract::DefaultBodyLimit::max(api::MAX_EVENT_BYTES))
        .with_state(shared)
}

async fn metrics(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if wants_openmetrics(accept) {
        let body = encode_openmetrics(&s.metrics.gather());
        ([(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)], body).into_response()
    } else {
        let body = s.metrics.encode_text();
        ([(header::CONTENT_TYPE, TEXT_CONTENT_TYPE)], body).into_response()
    }
}

async fn readyz(State(s): State<Arc<Shared>>) -> Response {
    match s.ready().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

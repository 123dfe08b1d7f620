//! `journeyprobe event` — post a change event (a deploy, a flag flip) to a running `serve`,
//! so the board can show it next to the BPMs it moved.

use std::time::Duration;

use super::ExitCode;
use crate::history::events::{EventKind, NewEvent};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  journeyprobe event --kind deploy --service web --version v1.2.3
  journeyprobe event --kind flag --service web --flag new-checkout --description 'on for 10%'

Exit codes: 0 stored · 1 refused (bad token, bad event: the message says why) · 3 serve not reachable.")]
pub struct Args {
    /// What changed.
    #[arg(long, value_enum)]
    pub kind: EventKind,
    /// The service that changed.
    #[arg(long)]
    pub service: String,
    /// The version deployed.
    #[arg(long)]
    pub version: Option<String>,
    /// The feature flag flipped.
    #[arg(long)]
    pub flag: Option<String>,
    /// Free text.
    #[arg(long)]
    pub description: Option<String>,
    /// When it happened (RFC 3339, UTC: 2026-11-25T06:00:00Z). Default: now.
    #[arg(long)]
    pub at: Option<String>,
    /// Where `journeyprobe serve` listens.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:9464")]
    pub url: String,
    /// The events token serve was started with.
    #[arg(
        long,
        env = super::EVENTS_TOKEN_ENV,
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
}

pub async fn run(a: Args) -> ExitCode {
    let event = NewEvent {
        kind: a.kind,
        service: a.service,
        version: a.version,
        flag: a.flag,
        description: a.description,
        at: a.at,
    };
    match post(&a.url, a.token.as_deref(), &event).await {
        Ok(stored) => {
            say!("{stored}");
            ExitCode::Passed
        }
        Err(Refused(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::TargetFailed
        }
        Err(Unreachable(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::ProberError
        }
    }
}

/// Why posting did not work.
pub enum PostError {
    /// serve answered, and said no.
    Refused(String),
    /// serve did not answer.
    Unreachable(String),
}
use PostError::{Refused, Unreachable};

/// POST `event` to `{base}/api/v1/events`; returns the stored event as JSON text.
pub async fn post(base: &str, token: Option<&str>, event: &NewEvent) -> Result<String, PostError> {
    let url = url::Url::parse(base)
        .and_then(|u| u.join("/api/v1/events"))
        .map_err(|e| Refused(format!("bad --url {base}: {e}")))?;
    let mut headers = vec![(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    )];
    if let Some(t) = token {
        let v = http::HeaderValue::from_str(&format!("Bearer {t}"))
            .map_err(|_| Refused("the token is not a valid header value".into()))?;
        headers.push((http::header::AUTHORIZATION, v));
    }
    let body = serde_json::to_string(event).map_err(|e| Refused(e.to_string()))?;
    let sent = crate::net::http::request(
        &url,
        http::Method::POST,
        &headers,
        Some(&body),
        Duration::from_secs(10),
    )
    .await;
    let (status, body) = sent.map_err(|p| Unreachable(format!("{url}: {}", p.message)))?;
    let text = String::from_utf8_lossy(&body).trim().to_string();
    if status == 201 {
        Ok(text)
    } else {
        let msg = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or(text);
        Err(Refused(format!("{url} answered {status}: {msg}")))
    }
}

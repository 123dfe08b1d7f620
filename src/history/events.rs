//! Change events: deploys, flag flips, config changes — what to put next to a BPM that moved.
//! Stored beside the runs, kept as long as runs are.

use serde::{Deserialize, Serialize};

use super::{History, HistoryError};
use rusqlite::params;

/// What kind of change. Closed set: it is the `kind` label of
/// `journeyprobe_change_events_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Deploy,
    Flag,
    Config,
    Incident,
    Other,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Deploy => "deploy",
            EventKind::Flag => "flag",
            EventKind::Config => "config",
            EventKind::Incident => "incident",
            EventKind::Other => "other",
        }
    }

    fn parse(s: &str) -> EventKind {
        match s {
            "deploy" => EventKind::Deploy,
            "flag" => EventKind::Flag,
            "config" => EventKind::Config,
            "incident" => EventKind::Incident,
            _ => EventKind::Other,
        }
    }
}

/// An event as posted: `{kind, service, version?, flag?, description?, at?}`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    pub kind: EventKind,
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// RFC 3339; when the change happened. Default: when it was received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// A stored event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    pub id: i64,
    pub kind: EventKind,
    pub service: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// RFC 3339, UTC.
    pub at: String,
    /// Unix seconds of `at`.
    pub at_unix: f64,
}

/// Longest `service`, `version` or `flag`.
const MAX_SHORT: usize = 200;
/// Longest `description`.
const MAX_DESCRIPTION: usize = 4000;

/// Why a posted event is refused (the API answers 400 with this text).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EventError {
    #[error("service must not be empty")]
    EmptyService,
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("a flag event names its flag (flag: …)")]
    NoFlag,
    #[error("at: '{at}' is not an RFC 3339 time such as 2026-11-25T06:00:00Z")]
    BadTime { at: String },
}

impl NewEvent {
    /// Check the fields; returns when the event happened (Unix seconds).
    pub fn validate(&self, now: f64) -> Result<f64, EventError> {
        if self.service.trim().is_empty() {
            return Err(EventError::EmptyService);
        }
        for (field, v, max) in [
            ("service", Some(&self.service), MAX_SHORT),
            ("version", self.version.as_ref(), MAX_SHORT),
            ("flag", self.flag.as_ref(), MAX_SHORT),
            ("description", self.description.as_ref(), MAX_DESCRIPTION),
        ] {
            if let Some(v) = v
                && v.chars().count() > max
            {
                return Err(EventError::TooLong { field, max });
            }
        }
        if self.kind == EventKind::Flag && self.flag.is_none() {
            return Err(EventError::NoFlag);
        }
        match &self.at {
            None => Ok(now),
            Some(at) => humantime::parse_rfc3339_weak(at)
                .map(crate::time::unix)
                .map_err(|_| EventError::BadTime { at: at.clone() }),
        }
    }
}

impl History {
    pub async fn insert_event(&self, e: NewEvent, at: f64) -> Result<Event, HistoryError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO events (kind, service, version, flag, description, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![e.kind.as_str(), e.service, e.version, e.flag, e.description, at],
            )?;
            Ok(Event {
                id: c.last_insert_rowid(),
                kind: e.kind,
                service: e.service,
                version: e.version,
                flag: e.flag,
                description: e.description,
                at: rfc3339(at),
                at_unix: at,
            })
        })
        .await
    }

    /// Events at or after `since` (Unix seconds), oldest first, at most `limit`.
    pub async fn events_since(&self, since: f64, limit: u32) -> Result<Vec<Event>, HistoryError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, kind, service, version, flag, description, at FROM events
                 WHERE at >= ?1 ORDER BY at, id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![since, limit], |r| {
                let kind: String = r.get(1)?;
                let at: f64 = r.get(6)?;
                Ok(Event {
                    id: r.get(0)?,
                    kind: EventKind::parse(&kind),
                    service: r.get(2)?,
                    version: r.get(3)?,
                    flag: r.get(4)?,
                    description: r.get(5)?,
                    at: rfc3339(at),
                    at_unix: at,
                })
            })?;
            rows.collect()
        })
        .await
    }
}

fn rfc3339(unix: f64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(unix.max(0.0));
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Result<NewEvent, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn bodies_are_checked_field_by_field() {
        let ok = event(r#"{"kind":"deploy","service":"web","version":"v1.2.3"}"#).unwrap();
        assert_eq!(ok.validate(100.0), Ok(100.0));
        let at = event(r#"{"kind":"config","service":"web","at":"2026-11-25T06:00:00Z"}"#).unwrap();
        assert_eq!(at.validate(0.0), Ok(1_795_586_400.0));
        assert!(
            event(r#"{"kind":"rollout","service":"web"}"#)
                .unwrap_err()
                .contains("unknown variant")
        );
        assert!(
            event(r#"{"kind":"deploy","service":"web","sevrice":"x"}"#)
                .unwrap_err()
                .contains("unknown field")
        );
        assert!(
            event(r#"{"kind":"deploy"}"#)
                .unwrap_err()
                .contains("missing field `service`")
        );
        let flag = event(r#"{"kind":"flag","service":"web"}"#).unwrap();
        assert_eq!(flag.validate(0.0), Err(EventError::NoFlag));
        let bad_at = event(r#"{"kind":"deploy","service":"web","at":"yesterday"}"#).unwrap();
        let err = bad_at.validate(0.0).unwrap_err();
        assert!(err.to_string().starts_with("at: 'yesterday'"), "{err}");
        let blank = event(r#"{"kind":"deploy","service":" "}"#).unwrap();
        assert_eq!(blank.validate(0.0), Err(EventError::EmptyService));
        let long = NewEvent {
            flag: Some("f".repeat(201)),
            ..event(r#"{"kind":"flag","service":"web"}"#).unwrap()
        };
        let err = long.validate(0.0).unwrap_err();
        assert_eq!(
            (err.clone(), err.to_string().as_str()),
            (
                EventError::TooLong {
                    field: "flag",
                    max: 200
                },
                "flag is longer than 200 characters"
            )
        );
    }

    #[tokio::test]
    async fn events_come_back_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(dir.path()).unwrap();
        let e = |v: &str| NewEvent {
            kind: EventKind::Deploy,
            service: "web".into(),
            version: Some(v.into()),
            flag: None,
            description: None,
            at: None,
        };
        h.insert_event(e("v2"), 200.0).await.unwrap();
        h.insert_event(e("v1"), 100.0).await.unwrap();
        let all = h.events_since(0.0, 10).await.unwrap();
        let versions: Vec<_> = all.iter().map(|e| e.version.clone().unwrap()).collect();
        assert_eq!(versions, ["v1", "v2"]);
        assert_eq!(h.events_since(150.0, 10).await.unwrap().len(), 1);
        assert_eq!(all[0].at, "1970-01-01T00:01:40.000Z");
    }
}

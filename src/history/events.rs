//! Change events: deploys, flag flips, config changes — what to put next to a BPM that moved.
//! Stored beside the runs, kept as long as runs are.

use std::time::Duration;

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
/// How far ahead of this server's clock `at` may be: senders' clocks drift, but an event
/// from next year would sit on the board for ever.
pub const MAX_AHEAD: Duration = Duration::from_secs(5 * 60);

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
    /// Shown with the character's code point, never the character: it is what a log
    /// line or a page must not receive.
    #[error(
        "{field}: contains a control character ({code}) at character {index}; event fields are one line of text without control characters"
    )]
    ControlCharacter {
        field: &'static str,
        code: String,
        index: usize,
    },
    #[error(
        "at: '{at}' is more than {ahead} in the future (this server's clock says {now}); post the event when the change happens, or fix the sender's clock"
    )]
    InTheFuture {
        at: String,
        ahead: String,
        now: String,
    },
    #[error(
        "at: '{at}' is older than the history retention ({keep}, history_max_age): it would be deleted at once"
    )]
    BeforeRetention { at: String, keep: String },
}

/// A character no event field may hold: C0 and C1 controls, DEL, and the Unicode line and
/// paragraph separators — anything that could start a line in a log or a terminal.
fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// The first forbidden character of `field`'s value, as an error.
fn control_character(field: &'static str, v: &str) -> Result<(), EventError> {
    match v.chars().enumerate().find(|(_, c)| is_forbidden(*c)) {
        Some((index, c)) => Err(EventError::ControlCharacter {
            field,
            code: format!("U+{:04X}", c as u32),
            index: index + 1,
        }),
        None => Ok(()),
    }
}

impl NewEvent {
    /// Check the fields; returns when the event happened (Unix seconds): not more than
    /// [`MAX_AHEAD`] after `now`, and not so long before it that history retention (`keep`)
    /// would delete it.
    pub fn validate(&self, now: f64, keep: Duration) -> Result<f64, EventError> {
        for (field, v) in self.texts() {
            if let Some(v) = v {
                control_character(field, v)?;
            }
        }
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
        let Some(at) = &self.at else {
            return Ok(now);
        };
        let t = humantime::parse_rfc3339_weak(at)
            .map(crate::time::unix)
            .map_err(|_| EventError::BadTime { at: at.clone() })?;
        if t > now + MAX_AHEAD.as_secs_f64() {
            return Err(EventError::InTheFuture {
                at: at.clone(),
                ahead: humantime::format_duration(MAX_AHEAD).to_string(),
                now: rfc3339(now),
            });
        }
        if t < now - keep.as_secs_f64() {
            return Err(EventError::BeforeRetention {
                at: at.clone(),
                keep: humantime::format_duration(keep).to_string(),
            });
        }
        Ok(t)
    }

    /// Every text field by name, as posted.
    fn texts(&self) -> [(&'static str, Option<&String>); 5] {
        [
            ("service", Some(&self.service)),
            ("version", self.version.as_ref()),
            ("flag", self.flag.as_ref()),
            ("description", self.description.as_ref()),
            ("at", self.at.as_ref()),
        ]
    }

    /// The event with `mask` applied to every text but `at`: a configured secret's value
    /// is stored, shown and answered as [`crate::redact::MASK`], as everywhere else.
    pub fn masked(self, mask: &crate::redact::Redactor) -> NewEvent {
        let m = |v: Option<String>| v.map(|v| mask.redact(&v));
        NewEvent {
            service: mask.redact(&self.service),
            version: m(self.version),
            flag: m(self.flag),
            description: m(self.description),
            ..self
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

    const KEEP: Duration = Duration::from_secs(30 * 24 * 3600);

    #[test]
    fn bodies_are_checked_field_by_field() {
        let ok = event(r#"{"kind":"deploy","service":"web","version":"v1.2.3"}"#).unwrap();
        assert_eq!(ok.validate(100.0, KEEP), Ok(100.0));
        let at = event(r#"{"kind":"config","service":"web","at":"2026-11-25T06:00:00Z"}"#).unwrap();
        assert_eq!(at.validate(1_795_586_400.0, KEEP), Ok(1_795_586_400.0));
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
        assert_eq!(flag.validate(0.0, KEEP), Err(EventError::NoFlag));
        let bad_at = event(r#"{"kind":"deploy","service":"web","at":"yesterday"}"#).unwrap();
        let err = bad_at.validate(0.0, KEEP).unwrap_err();
        assert!(err.to_string().starts_with("at: 'yesterday'"), "{err}");
        let blank = event(r#"{"kind":"deploy","service":" "}"#).unwrap();
        assert_eq!(blank.validate(0.0, KEEP), Err(EventError::EmptyService));
        let long = NewEvent {
            flag: Some("f".repeat(201)),
            ..event(r#"{"kind":"flag","service":"web"}"#).unwrap()
        };
        let err = long.validate(0.0, KEEP).unwrap_err();
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

    #[test]
    fn a_control_character_in_any_field_is_refused_by_field_name() {
        let base = r#"{"kind":"flag","service":"web","flag":"f""#;
        for (json, field, code) in [
            (
                r#"{"kind":"flag","service":"web\nERROR forged","flag":"f"}"#,
                "service",
                "U+000A",
            ),
            (
                &format!(r#"{base},"version":"v\u0000"}}"#),
                "version",
                "U+0000",
            ),
            (
                r#"{"kind":"flag","service":"web","flag":"f\u001b[2J"}"#,
                "flag",
                "U+001B",
            ),
            (
                &format!(r#"{base},"description":"a\rb"}}"#),
                "description",
                "U+000D",
            ),
            (
                &format!(r#"{base},"description":"a\u2028b"}}"#),
                "description",
                "U+2028",
            ),
            (
                &format!(r#"{base},"description":"a\u0085b"}}"#),
                "description",
                "U+0085",
            ),
            (
                &format!(r#"{base},"at":"2026-11-25T06:00:00Z\t"}}"#),
                "at",
                "U+0009",
            ),
        ] {
            let err = event(json)
                .unwrap()
                .validate(1_795_586_400.0, KEEP)
                .unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.starts_with(&format!("{field}: contains a control character ({code})")),
                "{json} -> {msg}"
            );
            assert!(!msg.chars().any(is_forbidden), "{msg:?}");
        }
        let plain = event(r#"{"kind":"deploy","service":"wéb ✓","description":"tabs\u00a0ok"}"#);
        assert!(plain.unwrap().validate(0.0, KEEP).is_ok());
    }

    #[test]
    fn at_is_at_most_a_few_minutes_ahead_and_within_the_retention() {
        let now = 1_795_586_400.0; // 2026-11-25T06:00:00Z
        let at = |t: &str| {
            event(&format!(
                r#"{{"kind":"deploy","service":"web","at":"{t}"}}"#
            ))
            .unwrap()
        };
        assert_eq!(
            at("2026-11-25T06:05:00Z").validate(now, KEEP),
            Ok(now + 300.0)
        );
        assert_eq!(
            at("2026-10-26T06:00:00Z").validate(now, KEEP),
            Ok(now - 30.0 * 86400.0)
        );
        let err = at("9999-12-31T00:00:00Z").validate(now, KEEP).unwrap_err();
        assert_eq!(
            err.to_string(),
            "at: '9999-12-31T00:00:00Z' is more than 5m in the future (this server's clock says \
             2026-11-25T06:00:00.000Z); post the event when the change happens, or fix the \
             sender's clock"
        );
        assert!(matches!(
            at("2026-11-25T06:05:01Z").validate(now, KEEP),
            Err(EventError::InTheFuture { .. })
        ));
        let err = at("1970-01-01T00:00:00Z").validate(now, KEEP).unwrap_err();
        assert_eq!(
            err.to_string(),
            "at: '1970-01-01T00:00:00Z' is older than the history retention (30days, \
             history_max_age): it would be deleted at once"
        );
    }

    #[test]
    fn masking_covers_every_text_but_the_time() {
        let r = crate::redact::Redactor::new(["hunter2".to_string()]);
        let e = event(
            r#"{"kind":"flag","service":"hunter2","version":"v-hunter2","flag":"hunter2",
                "description":"pw hunter2","at":"2026-11-25T06:00:00Z"}"#,
        )
        .unwrap()
        .masked(&r);
        let shown = serde_json::to_string(&e).unwrap();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(e.version.as_deref(), Some("v-••••"));
        assert_eq!(e.at.as_deref(), Some("2026-11-25T06:00:00Z"));
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

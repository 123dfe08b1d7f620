//! Run history: every attempt of every run in SQLite (WAL) under the data folder, the text
//! of every probe definition a run used (by content hash), and retention.
//!
//! One row per attempt. `attempt` counts from 1; `final` marks the attempt whose outcome is
//! the run's outcome (the last one), so first-attempt and eventual outcomes are both kept and
//! a retry never hides a flaky target. BPMs count final attempts only.
//!
//! Everything stored has been through the probe's redactor already ([`RunResult`] strings);
//! definition texts are redacted before they are stored.
//!
//! SQLite calls are synchronous; async callers go through [`History::call`], which runs them
//! on the blocking pool. One connection behind a mutex is plenty: a write is one small insert.

pub mod artifacts;
pub mod board;
pub mod events;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OptionalExtension, params};

use crate::config::ProbeKind;
use crate::outcome::{Outcome, Reason};
use crate::result::RunResult;
use crate::time::unix;

/// Errors of the history store. Always the prober's problem, never the target's.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot create the data folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("history database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("history database {path}: {source}")]
    UnknownValue { path: PathBuf, source: UnknownValue },
    #[error("the history worker stopped: {0}")]
    Worker(String),
}

/// A stored kind, outcome or reason this build does not know (a database written by a newer
/// journeyprobe, or edited by hand). Reported as such, never shown as if there were no data.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("the {column} column holds {value:?}, which is not a {column} this journeyprobe knows")]
pub struct UnknownValue {
    pub column: &'static str,
    pub value: String,
}

impl HistoryError {
    /// A failed query on `path`; an [`UnknownValue`] a row reader raised is kept as itself.
    fn query(path: PathBuf, source: rusqlite::Error) -> HistoryError {
        match source {
            rusqlite::Error::FromSqlConversionFailure(i, t, e) => match e.downcast() {
                Ok(unknown) => HistoryError::UnknownValue {
                    path,
                    source: *unknown,
                },
                Err(e) => HistoryError::Sqlite {
                    path,
                    source: rusqlite::Error::FromSqlConversionFailure(i, t, e),
                },
            },
            source => HistoryError::Sqlite { path, source },
        }
    }
}

/// Column `idx` (named `column`) of a row, read as text and parsed into its closed set.
pub(crate) fn closed<T>(
    r: &rusqlite::Row,
    idx: usize,
    column: &'static str,
    parse: fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let text: String = r.get(idx)?;
    parse(&text).ok_or_else(|| unknown(idx, column, text))
}

/// [`closed`] for a column that may be NULL.
pub(crate) fn closed_or_null<T>(
    r: &rusqlite::Row,
    idx: usize,
    column: &'static str,
    parse: fn(&str) -> Option<T>,
) -> rusqlite::Result<Option<T>> {
    let text: Option<String> = r.get(idx)?;
    text.map(|t| parse(&t).ok_or_else(|| unknown(idx, column, t)))
        .transpose()
}

fn unknown(idx: usize, column: &'static str, value: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        rusqlite::types::Type::Text,
        Box::new(UnknownValue { column, value }),
    )
}

/// How long and how much history is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    pub max_age: Duration,
    pub max_runs: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_age: Duration::from_secs(30 * 24 * 3600),
            max_runs: 1_000_000,
        }
    }
}

/// One attempt to store.
pub struct Attempt<'a> {
    pub result: &'a RunResult,
    /// 1-based.
    pub attempt: u32,
    /// This attempt's outcome is the run's outcome.
    pub is_final: bool,
    /// Row id of the run's first attempt, for later attempts.
    pub first_id: Option<i64>,
    pub definition_hash: &'a str,
    /// A journey's non-secret vars as resolved for this run (for `repro`).
    pub vars: Option<&'a std::collections::BTreeMap<String, String>>,
}

/// A stored attempt, as read back.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StoredRun {
    pub id: i64,
    pub probe: String,
    pub kind: ProbeKind,
    pub started_at: f64,
    pub duration_ms: f64,
    pub outcome: Outcome,
    pub reason: Option<Reason>,
    pub failed_step: Option<i64>,
    pub attempt: u32,
    pub is_final: bool,
    /// Row id of the run's first attempt, on later attempts.
    pub first_id: Option<i64>,
    pub definition_hash: String,
    /// The whole [`RunResult`] as JSON (steps, timings, artifacts, prerequisites).
    pub result: serde_json::Value,
}

/// Successes and countable runs (success + failure) in a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub success: u64,
    pub countable: u64,
}

#[derive(Clone)]
pub struct History {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id              INTEGER PRIMARY KEY,
    probe           TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    started_at      REAL    NOT NULL,  -- Unix seconds
    duration_ms     REAL    NOT NULL,
    outcome         TEXT    NOT NULL,  -- success | failure | error
    reason          TEXT,
    failed_step     INTEGER,
    attempt         INTEGER NOT NULL,
    final           INTEGER NOT NULL,
    first_id        INTEGER,
    definition_hash TEXT    NOT NULL,
    result          TEXT    NOT NULL,  -- RunResult as JSON
    vars            TEXT               -- a journey's non-secret vars as resolved, JSON
);
CREATE INDEX IF NOT EXISTS runs_probe_time ON runs (probe, started_at);
CREATE INDEX IF NOT EXISTS runs_time ON runs (started_at);
CREATE INDEX IF NOT EXISTS runs_first ON runs (first_id);
CREATE INDEX IF NOT EXISTS runs_definition ON runs (definition_hash);
CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,   -- deploy | flag | config | incident | other
    service     TEXT NOT NULL,
    version     TEXT,
    flag        TEXT,
    description TEXT,
    at          REAL NOT NULL    -- Unix seconds
);
CREATE INDEX IF NOT EXISTS events_time ON events (at);
CREATE TABLE IF NOT EXISTS definitions (
    hash       TEXT PRIMARY KEY,
    file       TEXT NOT NULL,
    text       TEXT NOT NULL,
    first_seen REAL NOT NULL
);
";

impl History {
    /// Open (creating) `dir/history.sqlite3`.
    pub fn open(dir: &Path) -> Result<History, HistoryError> {
        std::fs::create_dir_all(dir).map_err(|source| HistoryError::Folder {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("history.sqlite3");
        let err = |source| HistoryError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(err)?;
        // WAL: readers (the board, BPM queries) never block the writer. NORMAL sync is
        // durable across a process crash, which is what a prober restart needs.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        migrate(&conn).map_err(err)?;
        Ok(History {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `f` with the connection on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T, HistoryError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&guard).map_err(|source| HistoryError::query(path, source))
        })
        .await
        .map_err(|e| HistoryError::Worker(e.to_string()))?
    }

    /// Store a definition text under its hash (once).
    pub async fn put_definition(
        &self,
        hash: String,
        file: String,
        text: String,
    ) -> Result<(), HistoryError> {
        let now = unix(SystemTime::now());
        self.call(move |c| {
            c.execute(
                // `first_seen` is refreshed whenever the definition is (re)loaded, so pruning
                // never takes the text of a probe that is scheduled now.
                "INSERT INTO definitions (hash, file, text, first_seen) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (hash) DO UPDATE SET first_seen = excluded.first_seen",
                params![hash, file, text, now],
            )
            .map(|_| ())
        })
        .await
    }

    /// The definition text stored under `hash`.
    pub async fn definition(&self, hash: String) -> Result<Option<(String, String)>, HistoryError> {
        self.call(move |c| {
            c.query_row(
                "SELECT file, text FROM definitions WHERE hash = ?1",
                params![hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
        .await
    }

    /// Store one attempt; returns its row id.
    pub async fn insert(&self, a: Attempt<'_>) -> Result<i64, HistoryError> {
        let r = a.result;
        let json = serde_json::to_string(r).unwrap_or_else(|_| "{}".into());
        let vars = a.vars.and_then(|v| serde_json::to_string(v).ok());
        let row = (
            r.probe.clone(),
            r.kind.to_string(),
            started_unix(r),
            r.duration_ms,
            r.outcome.as_str().to_string(),
            r.reason.map(|x| x.as_str().to_string()),
            r.failed_step().map(|i| i as i64),
            a.attempt,
            a.is_final,
            a.first_id,
            a.definition_hash.to_string(),
            json,
            vars,
        );
        self.call(move |c| {
            c.execute(
                "INSERT INTO runs (probe, kind, started_at, duration_ms, outcome, reason, failed_step,
                                   attempt, final, first_id, definition_hash, result, vars)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10,
                    row.11, row.12
                ],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    /// Mark an already stored attempt as the run's final one (a retry was not started).
    pub async fn mark_final(&self, id: i64) -> Result<(), HistoryError> {
        self.call(move |c| {
            c.execute("UPDATE runs SET final = 1 WHERE id = ?1", params![id])
                .map(|_| ())
        })
        .await
    }

    /// Final attempts of `probes` since `since`: successes and countable (success or
    /// failure) runs. Errors are neither.
    pub async fn counts(
        &self,
        probes: Vec<String>,
        since: SystemTime,
    ) -> Result<Counts, HistoryError> {
        let since = unix(since);
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT COALESCE(SUM(outcome = 'success'), 0), COALESCE(SUM(outcome IN ('success', 'failure')), 0)
                 FROM runs WHERE final = 1 AND probe = ?1 AND started_at >= ?2",
            )?;
            let mut total = Counts::default();
            for p in &probes {
                let (s, n): (i64, i64) = stmt.query_row(params![p, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
                total.success += s as u64;
                total.countable += n as u64;
            }
            Ok(total)
        })
        .await
    }

    /// Latest attempts, newest first, optionally of one probe.
    pub async fn recent(
        &self,
        probe: Option<String>,
        limit: u32,
    ) -> Result<Vec<StoredRun>, HistoryError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {STORED_COLUMNS} FROM runs WHERE (?1 IS NULL OR probe = ?1) ORDER BY id DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![probe, limit], stored_run)?;
            rows.collect()
        })
        .await
    }

    /// Last successful final attempt of each probe, as Unix seconds (to restore the
    /// last-success gauge after a restart).
    pub async fn last_successes(&self) -> Result<Vec<(String, ProbeKind, f64)>, HistoryError> {
        self.call(|c| {
            let mut stmt = c.prepare(
                "SELECT probe, kind, MAX(started_at) FROM runs WHERE outcome = 'success' GROUP BY probe, kind",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get(0)?, closed(r, 1, "kind", ProbeKind::parse)?, r.get(2)?))
            })?;
            rows.collect()
        })
        .await
    }

    /// Delete runs older than `max_age` and beyond the newest `max_runs`, and definitions
    /// no run refers to any more. Returns the number of runs deleted.
    pub async fn prune(&self, keep: Retention) -> Result<usize, HistoryError> {
        let oldest = unix(SystemTime::now() - keep.max_age);
        let max_runs = i64::try_from(keep.max_runs).unwrap_or(i64::MAX);
        self.call(move |c| {
            c.execute("DELETE FROM events WHERE at < ?1", params![oldest])?;
            let mut n = c.execute("DELETE FROM runs WHERE started_at < ?1", params![oldest])?;
            n += c.execute(
                "DELETE FROM runs WHERE id <= (SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?1)",
                params![max_runs],
            )?;
            c.execute(
                "DELETE FROM definitions WHERE hash NOT IN (SELECT DISTINCT definition_hash FROM runs)
                 AND first_seen < ?1",
                params![oldest],
            )?;
            Ok(n)
        })
        .await
    }

    /// Number of stored attempts (tests and the status line).
    pub async fn run_count(&self) -> Result<u64, HistoryError> {
        self.call(|c| c.query_row("SELECT COUNT(*) FROM runs", [], |r| r.get::<_, i64>(0)))
            .await
            .map(|n| n as u64)
    }

    /// Checkpoint the WAL into the main file; called on shutdown so the folder is complete
    /// on its own.
    pub async fn flush(&self) -> Result<(), HistoryError> {
        self.call(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);"))
            .await
    }
}

/// The columns [`stored_run`] reads, in its order.
pub(crate) const STORED_COLUMNS: &str = "id, probe, kind, started_at, duration_ms, outcome, reason, \
     failed_step, attempt, final, definition_hash, result, first_id";

/// A row of [`STORED_COLUMNS`].
pub(crate) fn stored_run(r: &rusqlite::Row) -> rusqlite::Result<StoredRun> {
    let json: String = r.get(11)?;
    Ok(StoredRun {
        id: r.get(0)?,
        probe: r.get(1)?,
        kind: closed(r, 2, "kind", ProbeKind::parse)?,
        started_at: r.get(3)?,
        duration_ms: r.get(4)?,
        outcome: closed(r, 5, "outcome", Outcome::parse)?,
        reason: closed_or_null(r, 6, "reason", Reason::parse)?,
        failed_step: r.get(7)?,
        attempt: r.get(8)?,
        is_final: r.get(9)?,
        definition_hash: r.get(10)?,
        first_id: r.get(12)?,
        result: serde_json::from_str(&json).unwrap_or(serde_json::Value::Null),
    })
}

/// Columns added after the first release of the schema.
fn migrate(c: &Connection) -> rusqlite::Result<()> {
    let has_vars = c
        .prepare("SELECT 1 FROM pragma_table_info('runs') WHERE name = 'vars'")?
        .exists([])?;
    if !has_vars {
        c.execute_batch("ALTER TABLE runs ADD COLUMN vars TEXT;")?;
    }
    Ok(())
}

/// What `repro` needs of a past run.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub probe: String,
    pub kind: ProbeKind,
    pub outcome: Outcome,
    pub definition_hash: String,
    pub vars: std::collections::BTreeMap<String, String>,
}

impl History {
    /// The run stored under `id`.
    pub async fn recorded(&self, id: i64) -> Result<Option<Recorded>, HistoryError> {
        self.call(move |c| {
            c.query_row(
                "SELECT probe, kind, outcome, definition_hash, vars FROM runs WHERE id = ?1",
                params![id],
                |r| {
                    let vars: Option<String> = r.get(4)?;
                    Ok(Recorded {
                        probe: r.get(0)?,
                        kind: closed(r, 1, "kind", ProbeKind::parse)?,
                        outcome: closed(r, 2, "outcome", Outcome::parse)?,
                        definition_hash: r.get(3)?,
                        vars: vars
                            .and_then(|v| serde_json::from_str(&v).ok())
                            .unwrap_or_default(),
                    })
                },
            )
            .optional()
        })
        .await
    }
}

fn started_unix(r: &RunResult) -> f64 {
    humantime::parse_rfc3339(&r.started_at)
        .map(unix)
        .unwrap_or_else(|_| unix(SystemTime::now()))
}

/// Content hash of a definition text: hex SHA-256.
pub fn content_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Outcome, Problem, Reason};
    use crate::result::Phase;

    fn result(probe: &str, outcome: Outcome, at: SystemTime) -> RunResult {
        let text = format!("checks: [{{ name: {probe}, http: {{ url: 'http://127.0.0.1:1/' }} }}]");
        let env = std::collections::BTreeMap::<String, String>::new();
        let (parsed, _) = crate::config::file::parse_file(Path::new("c.yaml"), &text, &env);
        let c = parsed.unwrap().checks.remove(0);
        let mut r = RunResult::for_check(&c, at);
        let problem = match outcome {
            Outcome::Success => None,
            Outcome::Failure => Some(Problem::new(Reason::DnsNxdomain, "gone")),
            Outcome::Error => Some(Problem::new(Reason::ResolverUnavailable, "no resolver")),
        };
        r.conclude(problem.map(|p| {
            (
                p,
                Phase::Check {
                    check: crate::config::CheckKind::Http,
                },
            )
        }));
        r
    }

    async fn store(h: &History, r: &RunResult, attempt: u32, is_final: bool) -> i64 {
        h.insert(Attempt {
            result: r,
            attempt,
            is_final,
            first_id: None,
            definition_hash: "h",
            vars: None,
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn counts_leave_out_errors_and_non_final_attempts_and_old_runs() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(dir.path()).unwrap();
        let now = SystemTime::now();
        let old = now - Duration::from_secs(7200);
        store(&h, &result("a", Outcome::Success, now), 1, true).await;
        store(&h, &result("a", Outcome::Failure, now), 1, false).await;
        store(&h, &result("a", Outcome::Success, now), 2, true).await;
        store(&h, &result("a", Outcome::Failure, now), 1, true).await;
        store(&h, &result("a", Outcome::Error, now), 1, true).await;
        store(&h, &result("a", Outcome::Failure, old), 1, true).await;
        store(&h, &result("b", Outcome::Failure, now), 1, true).await;
        let hour_ago = now - Duration::from_secs(3600);
        let c = h.counts(vec!["a".into()], hour_ago).await.unwrap();
        assert_eq!(
            c,
            Counts {
                success: 2,
                countable: 3
            }
        );
        let both = h
            .counts(vec!["a".into(), "b".into()], hour_ago)
            .await
            .unwrap();
        assert_eq!(
            both,
            Counts {
                success: 2,
                countable: 4
            }
        );
        let none = h.counts(vec!["zzz".into()], hour_ago).await.unwrap();
        assert_eq!(none, Counts::default());
    }

    #[tokio::test]
    async fn history_survives_reopening_and_prunes_by_age_and_count() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        {
            let h = History::open(dir.path()).unwrap();
            store(
                &h,
                &result("a", Outcome::Success, now - Duration::from_secs(7200)),
                1,
                true,
            )
            .await;
            for _ in 0..5 {
                store(&h, &result("a", Outcome::Success, now), 1, true).await;
            }
            h.flush().await.unwrap();
        }
        let h = History::open(dir.path()).unwrap();
        assert_eq!(h.run_count().await.unwrap(), 6);
        let keep = Retention {
            max_age: Duration::from_secs(3600),
            max_runs: 3,
        };
        assert_eq!(h.prune(keep).await.unwrap(), 3);
        assert_eq!(h.run_count().await.unwrap(), 3);
        let recent = h.recent(Some("a".into()), 10).await.unwrap();
        assert_eq!(recent.len(), 3);
        assert!(recent[0].id > recent[2].id, "newest first");
        assert_eq!(recent[0].result["probe"], "a");
    }

    #[tokio::test]
    async fn an_unknown_stored_kind_outcome_or_reason_is_an_error_naming_column_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(dir.path()).unwrap();
        let id = store(
            &h,
            &result("a", Outcome::Failure, SystemTime::now()),
            1,
            true,
        )
        .await;
        let run = h.run(id).await.unwrap().unwrap();
        assert_eq!(
            (run.kind, run.outcome, run.reason),
            (
                ProbeKind::Check(crate::config::CheckKind::Http),
                Outcome::Failure,
                Some(Reason::DnsNxdomain)
            )
        );
        for (column, value) in [
            ("kind", "smtp"),
            ("outcome", "flaky"),
            ("reason", "gremlins"),
        ] {
            let sql = format!("UPDATE runs SET {column} = ?1 WHERE id = ?2");
            h.call(move |c| c.execute(&sql, params![value, id]))
                .await
                .unwrap();
            let expected = UnknownValue {
                column,
                value: value.to_string(),
            };
            match h.run(id).await {
                Err(HistoryError::UnknownValue { source, .. }) => assert_eq!(source, expected),
                other => panic!("{column}: {other:?}"),
            }
            let message = h.recent(None, 10).await.unwrap_err().to_string();
            assert!(
                message.ends_with(&format!(
                    "the {column} column holds \"{value}\", which is not a {column} this journeyprobe knows"
                )),
                "{message}"
            );
            let back = match column {
                "kind" => "http",
                "outcome" => "failure",
                _ => "dns_nxdomain",
            };
            let sql = format!("UPDATE runs SET {column} = ?1 WHERE id = ?2");
            h.call(move |c| c.execute(&sql, params![back, id]))
                .await
                .unwrap();
        }
        assert!(h.run(id).await.unwrap().is_some());
    }
}

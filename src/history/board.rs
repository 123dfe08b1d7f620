//! Reads for the mission-control board (`src/server/board/`): the countable runs behind a
//! BPM (its chart, and when it left its band), one run by id with its other attempts, and
//! each probe's latest attempt, success and failure.
//!
//! Like [`History::counts`], everything that feeds a ratio reads final attempts that ended in
//! `success` or `failure`: an `error` (the prober could not measure) is neither, so a broken
//! prober never moves a BPM, on the board either.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::{History, HistoryError, STORED_COLUMNS, StoredRun, closed, closed_or_null, stored_run};
use crate::outcome::{Outcome, Reason};

/// An attempt, in brief: enough to show and link it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRef {
    pub id: i64,
    pub started_at: f64,
    pub outcome: Outcome,
    pub reason: Option<Reason>,
    pub attempt: u32,
    pub is_final: bool,
}

/// Where one probe stands in the history.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProbeStatus {
    /// Its latest attempt (by start time), whatever the outcome.
    pub last: Option<RunRef>,
    pub last_success: Option<RunRef>,
    /// Its latest final attempt that ended in `failure` (errors are not failures).
    pub last_failure: Option<RunRef>,
}

const REF_COLUMNS: &str = "id, started_at, outcome, reason, attempt, final";

fn run_ref(r: &Row) -> rusqlite::Result<RunRef> {
    Ok(RunRef {
        id: r.get(0)?,
        started_at: r.get(1)?,
        outcome: closed(r, 2, "outcome", Outcome::parse)?,
        reason: closed_or_null(r, 3, "reason", Reason::parse)?,
        attempt: r.get(4)?,
        is_final: r.get(5)?,
    })
}

impl History {
    /// Start time and success of every countable run (final, success or failure) of
    /// `probes` since `since`, oldest first.
    pub async fn countable_runs(
        &self,
        probes: Vec<String>,
        since: f64,
    ) -> Result<Vec<(f64, bool)>, HistoryError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT started_at, outcome = 'success' FROM runs
                 WHERE final = 1 AND probe = ?1 AND started_at >= ?2
                 AND outcome IN ('success', 'failure')",
            )?;
            let mut out = Vec::new();
            for p in &probes {
                let rows = stmt.query_map(params![p, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
                for row in rows {
                    out.push(row?);
                }
            }
            out.sort_by(|a: &(f64, bool), b| a.0.total_cmp(&b.0));
            Ok(out)
        })
        .await
    }

    /// Success of each probe's latest `n` countable runs (final, success or failure) since
    /// `since`, newest first, in the order of `probes`: what the board's "state now" reads.
    pub async fn recent_countable(
        &self,
        probes: Vec<String>,
        since: f64,
        n: usize,
    ) -> Result<Vec<Vec<bool>>, HistoryError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT outcome = 'success' FROM runs
                 WHERE final = 1 AND probe = ?1 AND started_at >= ?2
                 AND outcome IN ('success', 'failure')
                 ORDER BY started_at DESC, id DESC LIMIT ?3",
            )?;
            probes
                .iter()
                .map(|p| {
                    stmt.query_map(params![p, since, n as i64], |r| r.get(0))?
                        .collect::<rusqlite::Result<Vec<bool>>>()
                })
                .collect()
        })
        .await
    }

    /// One stored attempt by its row id.
    pub async fn run(&self, id: i64) -> Result<Option<StoredRun>, HistoryError> {
        self.call(move |c| {
            c.query_row(
                &format!("SELECT {STORED_COLUMNS} FROM runs WHERE id = ?1"),
                params![id],
                stored_run,
            )
            .optional()
        })
        .await
    }

    /// Every attempt of the run whose first attempt is row `first_id`, that one included,
    /// in attempt order.
    pub async fn attempts_of(&self, first_id: i64) -> Result<Vec<RunRef>, HistoryError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {REF_COLUMNS} FROM runs WHERE id = ?1 OR first_id = ?1 ORDER BY attempt, id"
            ))?;
            let rows = stmt.query_map(params![first_id], run_ref)?;
            rows.collect()
        })
        .await
    }

    /// Latest attempt, success and failure of each probe, in the order given. Latest means
    /// the latest start, not the latest row: rows are not always written in start order.
    pub async fn probe_status(
        &self,
        probes: Vec<String>,
    ) -> Result<Vec<ProbeStatus>, HistoryError> {
        self.call(move |c| {
            let latest = |filter: &str, p: &str| {
                c.prepare_cached(&format!(
                    "SELECT {REF_COLUMNS} FROM runs WHERE probe = ?1 {filter}
                     ORDER BY started_at DESC, id DESC LIMIT 1"
                ))?
                .query_row(params![p], run_ref)
                .optional()
            };
            probes
                .iter()
                .map(|p| {
                    Ok(ProbeStatus {
                        last: latest("", p)?,
                        last_success: latest("AND outcome = 'success'", p)?,
                        last_failure: latest("AND final = 1 AND outcome = 'failure'", p)?,
                    })
                })
                .collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::history::Attempt;
    use crate::outcome::{Outcome, Problem, Reason};
    use crate::result::{Phase, RunResult};
    use crate::time::unix;

    fn result(outcome: Outcome, at: f64) -> RunResult {
        let text = "checks: [{ name: a, http: { url: 'http://127.0.0.1:1/' } }]";
        let env = std::collections::BTreeMap::<String, String>::new();
        let (parsed, _) = crate::config::file::parse_file(Path::new("c.yaml"), text, &env);
        let c = parsed.unwrap().checks.remove(0);
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(at);
        let mut r = RunResult::for_check(&c, t);
        let problem = match outcome {
            Outcome::Success => None,
            Outcome::Failure => Some(Problem::new(Reason::ConnectRefused, "refused")),
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

    async fn insert(
        h: &History,
        r: &RunResult,
        attempt: u32,
        is_final: bool,
        first: Option<i64>,
    ) -> i64 {
        h.insert(Attempt {
            result: r,
            attempt,
            is_final,
            first_id: first,
            definition_hash: "h",
            vars: None,
        })
        .await
        .unwrap()
    }

    /// A run of `outcome` as attempt `attempt`, final when it succeeded or was a retry.
    async fn store(
        h: &History,
        outcome: Outcome,
        at: f64,
        attempt: u32,
        first: Option<i64>,
    ) -> i64 {
        let is_final = attempt > 1 || outcome == Outcome::Success;
        insert(h, &result(outcome, at), attempt, is_final, first).await
    }

    /// An error on a first attempt that was not retried.
    async fn store_final_error(h: &History, at: f64) -> i64 {
        insert(h, &result(Outcome::Error, at), 1, true, None).await
    }

    #[tokio::test]
    async fn countable_runs_are_final_attempts_that_succeeded_or_failed() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(dir.path()).unwrap();
        // A failed first attempt retried into a success, an error, a final failure.
        let first = store(&h, Outcome::Failure, 610.0, 1, None).await;
        store(&h, Outcome::Success, 611.0, 2, Some(first)).await;
        store_final_error(&h, 620.0).await;
        let f = store(&h, Outcome::Failure, 1300.0, 1, None).await;
        h.mark_final(f).await.unwrap();
        assert_eq!(
            h.countable_runs(vec!["a".into()], 0.0).await.unwrap(),
            [(611.0, true), (1300.0, false)]
        );
        let attempts = h.attempts_of(first).await.unwrap();
        assert_eq!(
            attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(),
            [1, 2]
        );
        let run = h.run(first).await.unwrap().unwrap();
        assert_eq!((run.attempt, run.is_final), (1, false));
        assert!(h.run(9999).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn recent_countable_runs_are_the_latest_by_start_newest_first_without_errors() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(dir.path()).unwrap();
        let failed = store(&h, Outcome::Failure, 300.0, 1, None).await;
        h.mark_final(failed).await.unwrap();
        store(&h, Outcome::Success, 100.0, 1, None).await;
        store_final_error(&h, 400.0).await;
        // Written last, started first.
        store(&h, Outcome::Success, 50.0, 1, None).await;
        let recent = h
            .recent_countable(vec!["a".into(), "nobody".into()], 0.0, 2)
            .await
            .unwrap();
        assert_eq!(recent, [vec![false, true], vec![]]);
        let since = h
            .recent_countable(vec!["a".into()], 200.0, 5)
            .await
            .unwrap();
        assert_eq!(since, [vec![false]]);
    }

    #[tokio::test]
    async fn probe_status_goes_by_start_time_and_errors_are_not_failures() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(dir.path()).unwrap();
        let now = unix(SystemTime::now());
        let newest = store(&h, Outcome::Success, now - 10.0, 1, None).await;
        // Written later, started earlier (a long run ending after a short one).
        let failed = store(&h, Outcome::Failure, now - 60.0, 1, None).await;
        h.mark_final(failed).await.unwrap();
        let error_id = store_final_error(&h, now - 5.0).await;
        let status = h
            .probe_status(vec!["a".into(), "nobody".into()])
            .await
            .unwrap();
        assert_eq!(status[0].last.as_ref().unwrap().id, error_id);
        assert_eq!(status[0].last_success.as_ref().unwrap().id, newest);
        assert_eq!(status[0].last_failure.as_ref().unwrap().id, failed);
        assert_eq!(status[1], ProbeStatus::default());
    }
}

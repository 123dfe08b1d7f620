//! `run --repeat N`: per journey, how its N runs went — outcomes, median, p95, min and max
//! of the runs' durations — the quick way to measure a journey or to catch an intermittent
//! failure. Each run is also reported on its own as it finishes.

use serde::Serialize;

use super::ProbeRun;
use crate::outcome::Outcome;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RepeatStats {
    pub probe: String,
    pub runs: usize,
    pub success: usize,
    pub failure: usize,
    pub error: usize,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    /// Each run's duration in milliseconds, in run order.
    pub durations_ms: Vec<f64>,
}

/// Nearest-rank percentile of sorted values (`p` in 0..=100).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The stats of every journey in `runs`, in the order the journeys first appear.
pub fn stats(runs: &[ProbeRun]) -> Vec<RepeatStats> {
    let mut order: Vec<&str> = Vec::new();
    for r in runs.iter().filter(|r| r.result.kind.is_journey()) {
        if !order.contains(&r.result.probe.as_str()) {
            order.push(&r.result.probe);
        }
    }
    order
        .into_iter()
        .map(|probe| {
            let mine: Vec<&ProbeRun> = runs.iter().filter(|r| r.result.probe == probe).collect();
            let durations: Vec<f64> = mine.iter().map(|r| r.result.duration_ms).collect();
            let mut sorted = durations.clone();
            sorted.sort_by(f64::total_cmp);
            let count = |o: Outcome| mine.iter().filter(|r| r.result.outcome == o).count();
            RepeatStats {
                probe: probe.to_string(),
                runs: mine.len(),
                success: count(Outcome::Success),
                failure: count(Outcome::Failure),
                error: count(Outcome::Error),
                median_ms: percentile(&sorted, 50.0),
                p95_ms: percentile(&sorted, 95.0),
                min_ms: sorted.first().copied().unwrap_or(f64::NAN),
                max_ms: sorted.last().copied().unwrap_or(f64::NAN),
                durations_ms: durations,
            }
        })
        .collect()
}

/// What this process (the prober: browsers and chromedriver excluded) has used so far.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ProberUsage {
    /// User + system CPU time.
    pub cpu_ms: f64,
    /// Peak resident set size.
    pub max_rss_kb: i64,
}

pub fn prober_usage() -> ProberUsage {
    // SAFETY: rusage is a plain C struct of integers, for which all zeroes is a valid value.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage only writes the struct it is given, which lives for the call.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    ProberUsage {
        cpu_ms: ms(u.ru_utime) + ms(u.ru_stime),
        max_rss_kb: u.ru_maxrss,
    }
}

/// The human table.
pub fn render(stats: &[RepeatStats]) -> String {
    let mut out = String::from("\nrepeated runs (durations in ms):\n");
    out.push_str(&format!(
        "{:<24} {:>5} {:>7} {:>7} {:>5} {:>8} {:>8} {:>8} {:>8}\n",
        "journey", "runs", "passed", "failed", "error", "median", "p95", "min", "max"
    ));
    for s in stats {
        out.push_str(&format!(
            "{:<24} {:>5} {:>7} {:>7} {:>5} {:>8.0} {:>8.0} {:>8.0} {:>8.0}\n",
            s.probe,
            s.runs,
            s.success,
            s.failure,
            s.error,
            s.median_ms,
            s.p95_ms,
            s.min_ms,
            s.max_ms
        ));
    }
    let u = prober_usage();
    out.push_str(&format!(
        "prober: {:.0} ms CPU, {:.1} MB peak RSS (this process; browsers and chromedriver excluded)\n",
        u.cpu_ms,
        u.max_rss_kb as f64 / 1024.0
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 10.0);
        assert_eq!(percentile(&v, 95.0), 19.0);
        assert_eq!(percentile(&v, 100.0), 20.0);
        assert_eq!(percentile(&[7.0], 95.0), 7.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}

//! BPM ratios from history: for each BPM and window, the share of countable runs (final
//! attempts that ended in success or failure; errors are neither) that succeeded. A window
//! with no countable run has no ratio — not 1, not 0 — and the state `no_data`.

use std::time::SystemTime;

use crate::config::{Bpm, BpmState, bpm::window_label};
use crate::history::{Counts, History, HistoryError};
use crate::metrics::Metrics;

/// A BPM over one window, as last computed.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct WindowValue {
    pub window: String,
    pub success: u64,
    pub countable: u64,
    /// `None` when `countable` is 0.
    pub ratio: Option<f64>,
    /// `NoData` when `countable` is 0.
    pub state: BpmState,
}

/// Ratio and state of `counts` against the BPM's band; `None` without countable runs.
pub fn evaluate(bpm: &Bpm, counts: Counts) -> Option<(f64, BpmState)> {
    if counts.countable == 0 {
        return None;
    }
    let ratio = counts.success as f64 / counts.countable as f64;
    Some((ratio, bpm.expected.state(ratio)))
}

/// Compute every window of `bpm` from history (nothing is exported: see [`export`]).
pub async fn compute(bpm: &Bpm, history: &History) -> Result<Vec<WindowValue>, HistoryError> {
    let now = SystemTime::now();
    let mut out = Vec::with_capacity(bpm.windows.len());
    for w in &bpm.windows {
        let counts = history.counts(bpm.probes.clone(), now - *w).await?;
        let value = evaluate(bpm, counts);
        let label = window_label(*w);
        out.push(WindowValue {
            window: label,
            success: counts.success,
            countable: counts.countable,
            ratio: value.map(|v| v.0),
            state: value.map_or(BpmState::NoData, |v| v.1),
        });
    }
    Ok(out)
}

/// Export computed windows of `bpm`: band gauges, ratio (absent without countable runs),
/// countable runs and state.
pub fn export(bpm: &Bpm, windows: &[WindowValue], metrics: &Metrics) {
    metrics.band(&bpm.name, &bpm.expected);
    for w in windows {
        let value = w.ratio.map(|r| (r, bpm.expected.state(r)));
        metrics.bpm(&bpm.name, &w.window, w.countable, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Band;

    fn bpm(min: Option<f64>, max: Option<f64>) -> Bpm {
        Bpm {
            name: "b".into(),
            description: None,
            probes: vec!["p".into()],
            windows: vec![std::time::Duration::from_secs(300)],
            expected: Band { min, max },
            implicit: false,
            file: "f.yaml".into(),
            name_at: (1, 1),
        }
    }

    #[test]
    fn no_countable_runs_is_no_data_not_a_ratio() {
        let b = bpm(Some(0.95), None);
        assert_eq!(evaluate(&b, Counts::default()), None);
        let c = |success, countable| Counts { success, countable };
        assert_eq!(evaluate(&b, c(4, 4)), Some((1.0, BpmState::InBand)));
        assert_eq!(evaluate(&b, c(3, 4)), Some((0.75, BpmState::Below)));
        let funnel = bpm(Some(0.6), Some(0.8));
        assert_eq!(evaluate(&funnel, c(9, 10)), Some((0.9, BpmState::Above)));
    }
}

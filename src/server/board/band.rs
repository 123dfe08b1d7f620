//! When did a BPM leave its band? The board's "what changed" lists the change events from an
//! hour before that moment, so the moment must be defined, and honestly.
//!
//! Definition: take the shortest window of the BPM that is out of band now, and replay that
//! window's ratio over the look-back period (the chart's 24 h). The ratio only changes when a
//! countable run enters the window (at its start) or slides out of it (`window` later), so
//! replaying those instants gives exactly the ratio the tile showed at every moment. The BPM
//! left its band at the last instant its ratio went from in band to out of band (below or
//! above; a jump from one to the other continues the same episode). Moments with no countable
//! run in the window (`no_data`) say nothing either way and do not end an episode.
//!
//! If the ratio was never in band during the look-back, the moment is unknown: it left
//! before the history the board looks at ([`Left::BeforeLookback`]).

use crate::config::{Band, BpmState};

/// When the current out-of-band episode began.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Left {
    /// Unix seconds: a run entered or left the window, and the ratio left the band.
    At(f64),
    /// Out of band for all of the look-back that had data.
    BeforeLookback,
}

/// Replay the `window`-second ratio of `runs` (start time and success of every countable run,
/// oldest first, from at least `from - window` on) over `[from, now]`. `None` when the ratio
/// is not out of band at `now`.
pub fn left_band(
    runs: &[(f64, bool)],
    window: f64,
    band: &Band,
    from: f64,
    now: f64,
) -> Option<Left> {
    let mut replay = Replay::default();
    let (mut entered, mut exited) = (0, 0);
    // Everything before `from` only fills the window.
    while entered < runs.len() && runs[entered].0 < from {
        replay.add(runs[entered].1, 1);
        entered += 1;
    }
    while exited < entered && runs[exited].0 + window <= from {
        replay.add(runs[exited].1, -1);
        exited += 1;
    }
    let mut episode = Episode::default();
    episode.observe(replay.state(band), from);
    loop {
        let next_in = runs.get(entered).map(|r| r.0).filter(|t| *t <= now);
        let next_out = runs[exited..entered]
            .first()
            .map(|r| r.0 + window)
            .filter(|t| *t <= now);
        let t = match (next_in, next_out) {
            (None, None) => break,
            (a, b) => a.unwrap_or(f64::INFINITY).min(b.unwrap_or(f64::INFINITY)),
        };
        // Every change at the same instant, then one look at the ratio.
        while entered < runs.len() && runs[entered].0 == t {
            replay.add(runs[entered].1, 1);
            entered += 1;
        }
        while exited < entered && runs[exited].0 + window == t {
            replay.add(runs[exited].1, -1);
            exited += 1;
        }
        episode.observe(replay.state(band), t);
    }
    match replay.state(band) {
        BpmState::Below | BpmState::Above => Some(episode.start.unwrap_or(Left::BeforeLookback)),
        BpmState::InBand | BpmState::NoData => None,
    }
}

/// Successes and countable runs in the window being replayed.
#[derive(Default)]
struct Replay {
    success: i64,
    countable: i64,
}

impl Replay {
    fn add(&mut self, success: bool, n: i64) {
        self.countable += n;
        if success {
            self.success += n;
        }
    }

    fn state(&self, band: &Band) -> BpmState {
        if self.countable > 0 {
            band.state(self.success as f64 / self.countable as f64)
        } else {
            BpmState::NoData
        }
    }
}

/// The out-of-band episode under way, if any.
#[derive(Default)]
struct Episode {
    /// The ratio has been in band at some point of the look-back.
    seen_in_band: bool,
    start: Option<Left>,
}

impl Episode {
    fn observe(&mut self, state: BpmState, t: f64) {
        match state {
            BpmState::InBand => {
                self.seen_in_band = true;
                self.start = None;
            }
            // An episode under way keeps its start; a jump between below and above too.
            BpmState::Below | BpmState::Above if self.start.is_none() => {
                self.start = Some(if self.seen_in_band {
                    Left::At(t)
                } else {
                    Left::BeforeLookback
                });
            }
            BpmState::Below | BpmState::Above | BpmState::NoData => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN_95: Band = Band {
        min: Some(0.95),
        max: None,
    };

    fn runs(spec: &[(f64, bool)]) -> Vec<(f64, bool)> {
        spec.to_vec()
    }

    #[test]
    fn the_episode_starts_at_the_first_failure_after_the_ratio_was_in_band() {
        // Successes every 100 s, then failures from 1000 on, one lucky success at 1300.
        let mut r: Vec<(f64, bool)> = (0..10).map(|i| (i as f64 * 100.0, true)).collect();
        r.extend((10..20).map(|i| (i as f64 * 100.0, i == 13)));
        let left = left_band(&runs(&r), 300.0, &MIN_95, 0.0, 2000.0);
        assert_eq!(
            left,
            Some(Left::At(1000.0)),
            "one success inside the outage does not end it"
        );
    }

    #[test]
    fn a_gap_without_runs_neither_ends_nor_starts_an_episode() {
        // In band at 0, nothing in the window from 300 to 1000, then a failure.
        let r = runs(&[(0.0, true), (1000.0, false)]);
        assert_eq!(
            left_band(&r, 300.0, &MIN_95, 0.0, 1100.0),
            Some(Left::At(1000.0))
        );
        // In band again now: no episode.
        let back = runs(&[(0.0, true), (1000.0, false), (1400.0, true)]);
        assert_eq!(left_band(&back, 300.0, &MIN_95, 0.0, 1500.0), None);
    }

    #[test]
    fn leaving_the_band_when_a_run_slides_out_of_the_window_counts_too() {
        // A funnel normally at 2/3; the failure at 100 leaves the window at 400 and the
        // ratio jumps to 1: above the band from then on.
        let funnel = Band {
            min: Some(0.6),
            max: Some(0.8),
        };
        let r = runs(&[(0.0, true), (100.0, false), (200.0, true), (350.0, true)]);
        assert_eq!(
            left_band(&r, 300.0, &funnel, 0.0, 450.0),
            Some(Left::At(400.0))
        );
    }

    #[test]
    fn out_of_band_for_the_whole_look_back_is_unknown() {
        let r = runs(&[(50.0, false), (100.0, false), (500.0, false)]);
        assert_eq!(
            left_band(&r, 300.0, &MIN_95, 80.0, 600.0),
            Some(Left::BeforeLookback)
        );
        assert_eq!(left_band(&[], 300.0, &MIN_95, 0.0, 600.0), None, "no data");
    }

    #[test]
    fn runs_before_the_look_back_only_fill_the_window() {
        // In band before `from` (successes) is not seen as in band during the look-back if
        // the window is already below at `from`.
        let r = runs(&[(0.0, true), (90.0, false), (150.0, false)]);
        // At from=100 the window (300 s) holds 1 success, 1 failure: below already.
        assert_eq!(
            left_band(&r, 300.0, &MIN_95, 100.0, 200.0),
            Some(Left::BeforeLookback)
        );
        // With the look-back starting at 50, the ratio was in band at 50 and left at 90.
        assert_eq!(
            left_band(&r, 300.0, &MIN_95, 50.0, 200.0),
            Some(Left::At(90.0))
        );
    }
}

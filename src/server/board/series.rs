//! The chart of a BPM: its headline window's ratio over the last 24 h.
//!
//! Each point is what the tile would have shown at that moment: successes over countable
//! runs that started within the window before it. Plotting this rolling ratio, rather than
//! the ratio of the runs in each chart bucket, keeps the chart on the same footing as the
//! band: a funnel probed every 10 minutes is at 67%, not at a row of 0% and 100% dots. A
//! point whose window holds no countable run is a gap (no ratio), never 0 or 1.

/// One point of the chart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Unix seconds: the end of the window.
    pub t: f64,
    pub success: u64,
    pub countable: u64,
}

impl Point {
    pub fn ratio(&self) -> Option<f64> {
        (self.countable > 0).then(|| self.success as f64 / self.countable as f64)
    }
}

/// Longest step between points.
pub const MAX_STEP_SECS: f64 = 300.0;

/// Points per chart, at least, when the chart spans less than a day: a young instance's
/// ten minutes are drawn as a line, not as two dots.
pub const MIN_POINTS: f64 = 60.0;

/// The step between points of a chart of a `window`-second ratio over `span` seconds:
/// every `min(window, 5 min)` (at least a minute) over a day; finer over a shorter span,
/// so it still has [`MIN_POINTS`] points (never finer than 5 s).
pub fn chart_step(window: f64, span: f64) -> f64 {
    window
        .clamp(60.0, MAX_STEP_SECS)
        .min((span / MIN_POINTS).max(5.0))
}

/// Where a chart over `[from, now]` starts: at `from`, unless the first countable run
/// (`first`, the earliest at or after `from`) came later — a young instance, or a probe
/// added today — when the chart zooms to the data, with a margin of a twentieth of its
/// span (a minute at least) before the first run. Without runs it shows the whole look-back.
pub fn chart_start(first: Option<f64>, from: f64, now: f64) -> f64 {
    match first {
        Some(t) if t > from => (t - ((now - t) / 20.0).max(60.0)).max(from),
        Some(_) | None => from,
    }
}

/// Points every `step` seconds, on multiples of the step, from `from` to `now`, and one at
/// `now`, so the line ends at the tile's value. `runs`: start time and success of every
/// countable run, oldest first, from `from - window` on. A run is in the window ending at
/// `t` when it started in `(t - window, t]`.
pub fn rolling(runs: &[(f64, bool)], window: f64, step: f64, from: f64, now: f64) -> Vec<Point> {
    let mut times: Vec<f64> = Vec::new();
    let mut t = (from / step).ceil() * step;
    while t < now {
        times.push(t);
        t += step;
    }
    times.push(now);
    // Prefix sums of successes, so each point is two pointer moves and a subtraction.
    let mut ok = Vec::with_capacity(runs.len() + 1);
    ok.push(0u64);
    for (_, success) in runs {
        ok.push(ok.last().copied().unwrap_or(0) + u64::from(*success));
    }
    let (mut lo, mut hi) = (0, 0);
    times
        .into_iter()
        .map(|t| {
            while hi < runs.len() && runs[hi].0 <= t {
                hi += 1;
            }
            while lo < hi && runs[lo].0 <= t - window {
                lo += 1;
            }
            Point {
                t,
                success: ok[hi] - ok[lo],
                countable: (hi - lo) as u64,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_point_is_the_window_before_it_and_empty_windows_have_no_ratio() {
        let runs = [
            (100.0, true),
            (350.0, false),
            (590.0, true),
            (1500.0, false),
        ];
        let points = rolling(&runs, 300.0, 300.0, 0.0, 1600.0);
        let at = |t: f64| points.iter().find(|p| p.t == t).copied().unwrap();
        assert_eq!(points.first().unwrap().t, 0.0);
        assert_eq!(points.last().unwrap().t, 1600.0, "ends now");
        assert_eq!((at(300.0).success, at(300.0).countable), (1, 1));
        assert_eq!(
            (at(600.0).success, at(600.0).countable),
            (1, 2),
            "350 and 590"
        );
        assert_eq!(at(900.0).ratio(), None, "a gap, not 0");
        assert_eq!(at(1600.0).ratio(), Some(0.0));
        assert_eq!(points.len(), 7, "0, 300, …, 1500 and now");
    }

    #[test]
    fn a_long_window_smooths_and_a_short_one_is_sampled_every_minute() {
        // One run in three fails: over an hour the ratio stays at 2/3.
        let runs: Vec<(f64, bool)> = (0..30).map(|i| (i as f64 * 600.0, i % 3 != 0)).collect();
        let points = rolling(&runs, 3600.0, 300.0, 7200.0, 14_400.0);
        assert!(
            points.iter().all(|p| p.countable == 6 && p.success == 4),
            "{points:?}"
        );
        let minute = rolling(&[], 60.0, 60.0, 0.0, 600.0);
        assert_eq!(minute.len(), 11);
    }

    #[test]
    fn a_day_keeps_its_five_minute_step_and_a_young_chart_gets_finer() {
        assert_eq!(chart_step(300.0, 86_400.0), 300.0);
        assert_eq!(chart_step(3600.0, 86_400.0), 300.0);
        assert_eq!(chart_step(60.0, 86_400.0), 60.0);
        assert_eq!(chart_step(300.0, 600.0), 10.0, "ten minutes: 60 points");
        assert_eq!(chart_step(300.0, 60.0), 5.0, "never finer than 5 s");
    }

    #[test]
    fn a_young_instances_chart_starts_shortly_before_its_first_run() {
        let (from, now) = (0.0, 86_400.0);
        // Ten minutes of history: the chart starts a minute before the first run.
        assert_eq!(chart_start(Some(now - 600.0), from, now), now - 660.0);
        // Ten hours: a twentieth of them (30 min) before it.
        assert_eq!(chart_start(Some(now - 36_000.0), from, now), now - 37_800.0);
        // A full day, or runs since before the look-back: the whole look-back.
        assert_eq!(chart_start(Some(from + 600.0), from, now), from);
        assert_eq!(chart_start(Some(from), from, now), from);
        assert_eq!(chart_start(None, from, now), from, "no runs: the empty day");
    }
}

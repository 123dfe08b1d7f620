//! When a probe runs: `every`, `timeout` and `retries`, and the rule that ties them: all the
//! attempts of one run must end before the next run is due (`timeout × (retries + 1) <
//! every`). The scheduler relies on it: a run never overlaps its own next tick by design,
//! only by overload, which it then counts as a skipped run.

use std::time::Duration;

use marked_yaml::types::MarkedMappingNode;

use super::diag::mapping_start;
use super::reader::{Reader, join, show};

/// How often a journey runs when its file does not say.
pub const DEFAULT_JOURNEY_EVERY: Duration = Duration::from_secs(60);
/// How often a check runs when its definition does not say.
pub const DEFAULT_CHECK_EVERY: Duration = Duration::from_secs(30);
/// Most retries a probe may ask for.
pub const MAX_RETRIES: u32 = 5;

/// The schedule of one probe, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub every: Duration,
    pub timeout: Duration,
    /// Extra attempts after a failed or errored first attempt, within the same run.
    pub retries: u32,
}

/// Defaults of one probe kind.
pub struct Defaults {
    pub every: Duration,
    pub timeout: Duration,
    /// "journey" or "check", for messages.
    pub what: &'static str,
}

/// Read `every`, `timeout` and `retries` of `map` (at path `key`). Defaults give way to what
/// is set: an explicit `every` shortens the default timeout so that all attempts fit in 4/5
/// of it, and an explicit long `timeout` lengthens the default `every` to twice what all
/// attempts may take.
pub fn read_schedule(
    r: &mut Reader,
    map: &MarkedMappingNode,
    key: &str,
    defaults: &Defaults,
) -> Option<Schedule> {
    let every = map
        .get_node("every")
        .map(|n| r.duration(n, &join(key, "every")));
    let timeout = map
        .get_node("timeout")
        .map(|n| r.duration(n, &join(key, "timeout")));
    let retries = map
        .get_node("retries")
        .map(|n| r.count(n, &join(key, "retries"), MAX_RETRIES));
    let retries = retries.unwrap_or(Some(0))?;
    let attempts = retries + 1;
    let timeout = match (timeout, every) {
        (Some(t), _) => t?,
        (None, Some(Some(e))) => defaults.timeout.min(e * 4 / 5 / attempts),
        (None, _) => defaults.timeout,
    };
    let every = match every {
        Some(e) => e?,
        None => defaults.every.max(timeout * attempts * 2),
    };
    if timeout * attempts >= every {
        let span = map
            .get_node("timeout")
            .or_else(|| map.get_node("every"))
            .map(|n| *n.span())
            .unwrap_or_else(|| mapping_start(map));
        let at = if map.get_node("timeout").is_some() {
            "timeout"
        } else {
            "every"
        };
        let msg = if attempts > 1 {
            format!(
                "{attempts} attempts (retries: {retries}) of timeout {} do not fit in the {}'s every {}",
                show(timeout),
                defaults.what,
                show(every)
            )
        } else {
            format!(
                "timeout {} is not shorter than the {}'s every {}",
                show(timeout),
                defaults.what,
                show(every)
            )
        };
        let hint = "a run, retries included, must end before the next one is due";
        r.d.hint(&span, &join(key, at), msg, hint.into());
        return None;
    }
    Some(Schedule {
        every,
        timeout,
        retries,
    })
}

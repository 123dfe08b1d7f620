//! When runs are due, and whether a due run may still start.
//!
//! Each probe runs on a fixed grid: `base + offset + k × every`, where `base` is when the
//! service started and `offset` is a per-probe start jitter derived from the probe's name
//! (so probes with the same `every` do not all start at once, and a reload keeps each probe
//! on its grid). Ticks that pass while the loop is not looking are skipped, never replayed:
//! there is no backlog to catch up after an overload.
//!
//! A due run waits for a slot only as long as it can still finish before its next tick
//! (`every − timeout × attempts`, which validation keeps positive); past that it is skipped
//! as `no_slot`. A tick that comes while the probe's previous run is still going is skipped
//! as `overrun`. Both are counted ([`crate::metrics::SkipReason`]).

use std::time::Duration;

use tokio::time::Instant;

/// Largest start jitter: probes with a long `every` still start within a minute.
pub const MAX_JITTER: Duration = Duration::from_secs(60);

/// The per-probe start offset in `[0, min(every, MAX_JITTER))`, stable for a name.
pub fn jitter(name: &str, every: Duration) -> Duration {
    use sha2::{Digest, Sha256};
    let span = every.min(MAX_JITTER).as_millis() as u64;
    if span == 0 {
        return Duration::ZERO;
    }
    let h = Sha256::digest(name.as_bytes());
    let n = u64::from_be_bytes(h[..8].try_into().expect("8 bytes"));
    Duration::from_millis(n % span)
}

/// The first tick of the grid `base + offset + k × every` that is at or after `now`.
pub fn next_tick(base: Instant, offset: Duration, every: Duration, now: Instant) -> Instant {
    let first = base + offset;
    if now <= first {
        return first;
    }
    let every_ns = every.as_nanos().max(1);
    let k = (now - first).as_nanos().div_ceil(every_ns);
    first + Duration::from_nanos((k * every_ns) as u64)
}

/// How long after its tick a run may still start: all its attempts must end before the
/// next tick.
pub fn start_window(every: Duration, timeout: Duration, attempts: u32) -> Duration {
    every.saturating_sub(timeout * attempts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_stay_on_the_grid_and_missed_ones_are_skipped_not_replayed() {
        let base = Instant::now();
        let s = Duration::from_secs;
        let every = s(10);
        assert_eq!(next_tick(base, s(3), every, base), base + s(3));
        assert_eq!(next_tick(base, s(3), every, base + s(3)), base + s(3));
        assert_eq!(next_tick(base, s(3), every, base + s(4)), base + s(13));
        // Ten minutes late: the next tick is the next one on the grid, not the 60 missed.
        assert_eq!(next_tick(base, s(3), every, base + s(600)), base + s(603));
    }

    #[test]
    fn jitter_is_stable_per_name_and_below_every() {
        let every = Duration::from_secs(30);
        assert_eq!(jitter("login", every), jitter("login", every));
        assert_ne!(jitter("login", every), jitter("search", every));
        for name in ["a", "b", "c", "login", "dns_app"] {
            assert!(jitter(name, every) < every);
            assert!(jitter(name, Duration::from_secs(3600)) < MAX_JITTER);
        }
        assert_eq!(
            start_window(every, Duration::from_secs(10), 2),
            Duration::from_secs(10)
        );
    }
}

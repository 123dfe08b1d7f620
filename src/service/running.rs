//! Which probes have a run in flight, so that a tick never starts a second run of a probe
//! whose previous run is still going.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Probes with a run in flight (across reloads). A run holds its probe's [`RunningGuard`]:
/// the probe is free again when the guard is dropped, at the end of the run or when its
/// task panicked or was dropped, so a probe is never marked running forever.
#[derive(Default)]
pub struct Running(Arc<Mutex<HashSet<String>>>);

impl Running {
    /// Mark `probe` running; None when it already is.
    pub fn try_start(&self, probe: &str) -> Option<RunningGuard> {
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(probe.to_string()).then(|| RunningGuard {
            set: self.0.clone(),
            probe: probe.to_string(),
        })
    }

    #[cfg(test)]
    fn contains(&self, probe: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(probe)
    }
}

/// A probe's run in flight; dropping it frees the probe.
pub struct RunningGuard {
    set: Arc<Mutex<HashSet<String>>>,
    probe: String,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.probe);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_runs_once_at_a_time() {
        let running = Running::default();
        let guard = running.try_start("login").expect("free");
        assert!(running.contains("login"));
        assert!(running.try_start("login").is_none());
        assert!(running.try_start("dns").is_some(), "other probes are free");
        drop(guard);
        assert!(!running.contains("login"));
    }

    #[tokio::test]
    async fn a_run_that_panics_frees_its_probe() {
        let running = Running::default();
        let guard = running.try_start("login").expect("free");
        let task = tokio::spawn(async move {
            let _guard = guard;
            panic!("a bug inside a run");
        });
        assert!(task.await.unwrap_err().is_panic());
        assert!(!running.contains("login"), "marked running forever");
        assert!(running.try_start("login").is_some());
    }
}

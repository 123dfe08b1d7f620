//! A child process that does not outlive its test, however the test ends: a failed
//! assertion unwinds through [`Guarded`]'s `Drop`, and a test process killed outright takes
//! the child with it (Linux's parent-death signal).

use std::ops::{Deref, DerefMut};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// How long the child has to stop on its own, as on Ctrl-C (closing its browser sessions and
/// stopping what it started), before its process group is killed.
const GRACE: Duration = Duration::from_secs(20);

/// A spawned child, stopped and reaped on drop unless the test has already waited for it.
/// Derefs to the [`Child`], so the test reads its pipes and waits for it as usual.
pub struct Guarded(Child);

impl Guarded {
    /// Spawn `cmd` as the leader of a new process group, so that whatever it starts without
    /// a group of its own goes with it, and set it to be SIGKILLed when the spawning thread
    /// ends (for a test, the test's own thread, which ends with the test).
    pub fn spawn(cmd: &mut Command) -> Guarded {
        cmd.process_group(0);
        // SAFETY: runs in the forked child before exec; prctl is async-signal-safe, takes
        // plain integers and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        Guarded(cmd.spawn().expect("spawn the child"))
    }

    /// Send `sig` to the child (not its group), as a user's `kill` would.
    pub fn signal(&self, sig: i32) {
        if self.state() == State::Reaped {
            return;
        }
        // SAFETY: kill takes plain integers and touches no memory. The child is not reaped
        // yet, so its pid cannot have been reused by another process.
        unsafe { libc::kill(self.0.id() as i32, sig) };
    }

    /// Whether the child runs, has exited but is not reaped (a zombie, which still holds
    /// its pid and process group), or is reaped. Looks without reaping (`WNOWAIT`).
    fn state(&self) -> State {
        // SAFETY: siginfo_t is plain data for which all zeroes is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
        // SAFETY: waitid writes only into `info`, which lives across the call.
        let rc = unsafe { libc::waitid(libc::P_PID, self.0.id(), &mut info, flags) };
        if rc != 0 {
            return State::Reaped; // ECHILD: already waited for
        }
        // SAFETY: waitid filled `info` (si_pid stays 0 while the child runs).
        match unsafe { info.si_pid() } {
            0 => State::Running,
            _ => State::Exited,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    Exited,
    Reaped,
}

impl Deref for Guarded {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for Guarded {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if self.state() == State::Reaped {
            return;
        }
        // First as a user would stop it, so it closes its browsers itself: killing it
        // outright would leave Chromium behind (chromedriver runs in a group of its own).
        self.signal(libc::SIGINT);
        let end = Instant::now() + GRACE;
        while self.state() == State::Running && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(50));
        }
        let pgid = self.0.id() as i32;
        // SAFETY: killpg takes plain integers and touches no memory. pgid is the group the
        // child leads (process_group(0) above), never 0 or negative, and cannot have been
        // reused: the child, running or a zombie, is not reaped until the wait below.
        unsafe { libc::killpg(pgid, libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

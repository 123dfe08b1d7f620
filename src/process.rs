//! Small helpers for the programs journeyprobe starts (chromedriver, and the fault lab's
//! moto and dnsmasq): finding them, and tying their lives to ours.

use std::path::PathBuf;

use tokio::process::Command;

/// Where a program is: on PATH, or in the sbin folders Debian keeps some servers in
/// (dnsmasq is in /usr/sbin, which a non-root PATH lacks).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The child is killed when we die, however we die (SIGKILL, OOM): Linux's parent-death
/// signal. It fires when the *thread* that spawned the child exits; we spawn from the
/// runtime's long-lived threads, which end only with the process.
pub fn die_with_parent(cmd: &mut Command) -> &mut Command {
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    }
}

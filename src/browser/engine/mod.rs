//! The browser seam: what differs between browsers, behind one trait, [`Engine`], with one
//! file per browser ([`chromium`], [`firefox`]).
//!
//! An engine owns finding its WebDriver server and its browser binary, starting the driver
//! (its arguments, how it says it listens, how many sessions one process serves), the
//! capabilities of a new session with a fresh profile, whether Chrome DevTools is there
//! (mouse-input clicks, one-call fills, the pooled reset), and how its error pages name a
//! network error. Everything else (steps, auto-wait, assertions, artifacts, deadlines,
//! classification of WebDriver errors, process hygiene, memory) is shared.
//!
//! A third engine (say WebKitGTK through Debian's `webkit2gtk-driver`) is a variant of
//! [`BrowserKind`], its arm in [`BrowserKind::engine`], and one file here implementing
//! [`Engine`], plus its tests.

use std::path::PathBuf;

use fantoccini::wd::Capabilities;

pub use crate::config::BrowserKind;
use crate::outcome::{Problem, Reason};

pub mod chromium;
pub mod firefox;

impl BrowserKind {
    /// What differs about this browser. (The kind itself is configuration vocabulary,
    /// declared in `config`; its engine lives here.)
    pub fn engine(self) -> &'static dyn Engine {
        match self {
            BrowserKind::Chromium => &chromium::Chromium,
            BrowserKind::Firefox => &firefox::Firefox,
        }
    }
}

/// What the browser should look like.
#[derive(Clone, Debug, Default)]
pub struct BrowserOptions {
    /// Browser binary to use (managed driver only; a remote grid picks its own).
    pub binary: Option<PathBuf>,
    /// A fresh, throw-away profile folder (managed driver only; an engine whose driver
    /// makes its own profile gets none).
    pub profile_dir: Option<PathBuf>,
    /// A visible window (`run --headed`) instead of headless.
    pub headed: bool,
}

impl BrowserOptions {
    /// The options of a new session of `engine` through `driver` (a managed one, if any):
    /// a fresh profile folder of ours when the engine takes one (the caller owns it and
    /// removes it with its browser).
    pub fn for_session(
        engine: &dyn Engine,
        driver: Option<&super::driver::ManagedDriver>,
        binary: Option<PathBuf>,
        headed: bool,
    ) -> BrowserOptions {
        BrowserOptions {
            binary,
            profile_dir: driver
                .filter(|_| engine.wants_profile_dir())
                .and_then(|d| d.new_profile_dir().ok()),
            headed,
        }
    }
}

/// A WebDriver server program and where to look for it.
#[derive(Clone, Copy, Debug)]
pub struct DriverProgram {
    /// Its name on PATH (`chromedriver`).
    pub name: &'static str,
    /// The environment variable that points at it instead (`JOURNEYPROBE_CHROMEDRIVER`).
    pub env: &'static str,
    /// How to install it, for the error when it is missing.
    pub install: &'static str,
}

/// The port a driver is started on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortChoice {
    /// We pick a free port and pass it (chromedriver; retried if it was taken meanwhile).
    Given(u16),
    /// The driver binds port 0 and says which port it got (geckodriver).
    Own,
}

/// What differs about one browser. Object-safe: engines are used as `&'static dyn Engine`.
pub trait Engine: Send + Sync {
    fn kind(&self) -> BrowserKind;

    /// The WebDriver server program.
    fn driver(&self) -> DriverProgram;

    /// The browser binary to hand the driver (its environment variable, else on PATH),
    /// or None (the driver looks for the browser itself).
    fn find_browser(&self) -> Option<PathBuf>;

    /// Does the driver bind a port of its own choosing (and say which)?
    fn chooses_port(&self) -> bool;

    /// The driver's arguments: listening on loopback only, on `port`.
    fn driver_args(&self, port: PortChoice) -> Vec<String>;

    /// The port, if this line of the driver's output says it is listening (`asked`: the
    /// port it was given, if any).
    fn listening(&self, line: &str, asked: Option<u16>) -> Option<u16>;

    /// Environment the driver process is started with (`TMPDIR` for its own profiles).
    fn driver_env(&self, profiles: &std::path::Path) -> Vec<(&'static str, PathBuf)>;

    /// How many sessions one driver process serves at a time (None: no limit of its own).
    fn sessions_per_driver(&self) -> Option<usize>;

    /// Does the session get a profile folder of ours (`--user-data-dir`)? When not, the
    /// driver makes one under its `TMPDIR`, which is ours.
    fn wants_profile_dir(&self) -> bool;

    /// A session start this long is slow for this browser (a cold first start, a starved
    /// machine): well above its usual start. With a quarter of the journey's timeout, the
    /// bound past which a journey timeout is `browser_start_slow`.
    fn slow_start(&self) -> std::time::Duration;

    /// Capabilities for a new session.
    fn capabilities(&self, opts: &BrowserOptions) -> Capabilities;

    /// Does the driver pass Chrome DevTools commands through (`goog/cdp/execute`)? Without
    /// it, clicks are WebDriver's element click, fills are typed key by key, sessions are
    /// not pooled (the isolation reset is DevTools), and the console log is not kept.
    fn devtools(&self) -> bool;

    /// Which side a network error on the browser's own error page is on (the code the
    /// page probe read: Chromium's `ERR_CONNECTION_REFUSED`, Firefox's `connectionFailure`).
    fn net_error_reason(&self, code: &str) -> Reason;
}

/// Where the driver of `engine` is: its environment variable, else on PATH, else in cargo's
/// bin folder.
pub fn find_driver(engine: &dyn Engine) -> Result<PathBuf, Problem> {
    let program = engine.driver();
    if let Some(p) = std::env::var_os(program.env) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(Problem::new(
                Reason::DriverNotFound,
                format!(
                    "{} points to {}, which is not a file",
                    program.env,
                    p.display()
                ),
            ))
        };
    }
    // geckodriver is installed by `cargo install`: its bin folder may not be on PATH.
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|c| c.join("bin").join(program.name))
        .filter(|p| p.is_file());
    crate::process::find_program(program.name)
        .or(cargo_bin)
        .ok_or_else(|| {
            Problem::new(
                Reason::DriverNotFound,
                format!(
                    "{} not found on PATH; {} (or set {}, or pass --webdriver URL)",
                    program.name, program.install, program.env
                ),
            )
        })
}

/// A capabilities literal as fantoccini's map.
fn object(v: serde_json::Value) -> Capabilities {
    match v {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("capabilities literal is an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_browser_names_its_own_driver() {
        for kind in BrowserKind::ALL {
            let e = kind.engine();
            assert_eq!(e.kind(), *kind);
            assert!(e.driver().env.starts_with("JOURNEYPROBE_"));
        }
        assert_eq!(BrowserKind::default(), BrowserKind::Chromium);
        assert_eq!(BrowserKind::parse("firefox"), Some(BrowserKind::Firefox));
    }

    #[test]
    fn a_missing_driver_says_how_to_install_it() {
        let p = find_driver(&Missing).unwrap_err();
        assert_eq!(p.reason, Reason::DriverNotFound);
        assert!(
            p.message.contains("no-such-driver-xyz not found on PATH"),
            "{}",
            p.message
        );
        assert!(
            p.message.contains("apt-get install nothing"),
            "{}",
            p.message
        );
    }

    /// An engine whose driver exists nowhere.
    struct Missing;
    impl Engine for Missing {
        fn kind(&self) -> BrowserKind {
            BrowserKind::Chromium
        }
        fn driver(&self) -> DriverProgram {
            DriverProgram {
                name: "no-such-driver-xyz",
                env: "JOURNEYPROBE_NO_SUCH_DRIVER_XYZ",
                install: "apt-get install nothing",
            }
        }
        fn find_browser(&self) -> Option<PathBuf> {
            None
        }
        fn chooses_port(&self) -> bool {
            false
        }
        fn driver_args(&self, _: PortChoice) -> Vec<String> {
            Vec::new()
        }
        fn listening(&self, _: &str, _: Option<u16>) -> Option<u16> {
            None
        }
        fn driver_env(&self, _: &std::path::Path) -> Vec<(&'static str, PathBuf)> {
            Vec::new()
        }
        fn sessions_per_driver(&self) -> Option<usize> {
            None
        }
        fn wants_profile_dir(&self) -> bool {
            false
        }
        fn slow_start(&self) -> std::time::Duration {
            std::time::Duration::from_secs(1)
        }
        fn capabilities(&self, _: &BrowserOptions) -> Capabilities {
            Capabilities::new()
        }
        fn devtools(&self) -> bool {
            false
        }
        fn net_error_reason(&self, _: &str) -> Reason {
            Reason::ProberNetwork
        }
    }
}

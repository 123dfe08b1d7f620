//! Chromium through chromedriver (Debian's `chromium` and `chromium-driver`): one driver
//! serves many sessions, each with a throw-away `--user-data-dir` of ours, and passes Chrome
//! DevTools commands through.

use std::path::{Path, PathBuf};

use fantoccini::wd::Capabilities;
use serde_json::json;

use super::{BrowserKind, BrowserOptions, DriverProgram, Engine, PortChoice, object};
use crate::outcome::Reason;

pub struct Chromium;

/// Flags that make headless Chromium start fast and stay quiet on a closed network.
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--window-size=1280,800",
];

/// Capabilities for a Chromium session.
fn capabilities(opts: &BrowserOptions) -> Capabilities {
    let mut args: Vec<String> = CHROMIUM_ARGS
        .iter()
        .filter(|a| !(opts.headed && a.starts_with("--headless")))
        .map(|s| s.to_string())
        .collect();
    if let Some(dir) = &opts.profile_dir {
        args.push(format!("--user-data-dir={}", dir.display()));
    }
    let mut chrome = json!({
        "args": args,
        // A fresh Debian profile stalls 1–5 s on its first navigation resolving its default
        // search engine (it waits for a network timeout); a local provider removes the stall:
        // first goto measured ~1.2 s without it, ~0.24 s with it.
        "prefs": {
            "default_search_provider_data": {
                "template_url_data": {
                    "keyword": "x",
                    "short_name": "x",
                    "url": "http://127.0.0.1:1/?q={searchTerms}"
                }
            }
        }
    });
    if let Some(bin) = &opts.binary {
        chrome["binary"] = json!(bin.display().to_string());
    }
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": chrome,
        "goog:loggingPrefs": { "browser": "ALL" },
        "pageLoadStrategy": "normal",
        "unhandledPromptBehavior": "dismiss and notify",
    });
    object(caps)
}

/// Chromium network error codes that say the *target* could not be reached or spoke
/// nonsense. Any other code (no connectivity, proxy, out of resources, blocked by policy)
/// is the prober's own network failing, which must not count against the target.
const TARGET_NET_ERRORS: &[&str] = &[
    "ERR_CONNECTION_REFUSED",
    "ERR_CONNECTION_RESET",
    "ERR_CONNECTION_CLOSED",
    "ERR_CONNECTION_FAILED",
    "ERR_CONNECTION_TIMED_OUT",
    "ERR_TIMED_OUT",
    "ERR_ADDRESS_UNREACHABLE",
    "ERR_NAME_NOT_RESOLVED",
    "ERR_EMPTY_RESPONSE",
    "ERR_INVALID_RESPONSE",
    "ERR_INVALID_HTTP_RESPONSE",
    "ERR_RESPONSE_HEADERS_TRUNCATED",
    "ERR_TOO_MANY_REDIRECTS",
    "ERR_CONTENT_DECODING_FAILED",
    "ERR_HTTP2_PROTOCOL_ERROR",
    "ERR_UNSAFE_PORT",
    "ERR_UNSAFE_REDIRECT",
    "ERR_INVALID_REDIRECT",
];

/// Which side a Chromium network error is on.
fn net_error_reason(code: &str) -> Reason {
    let target = TARGET_NET_ERRORS.contains(&code)
        || code.starts_with("ERR_CERT_")
        || code.starts_with("ERR_SSL_");
    if target {
        Reason::NavigationFailed
    } else {
        Reason::ProberNetwork
    }
}

impl Engine for Chromium {
    fn kind(&self) -> BrowserKind {
        BrowserKind::Chromium
    }

    fn driver(&self) -> DriverProgram {
        DriverProgram {
            name: "chromedriver",
            env: "JOURNEYPROBE_CHROMEDRIVER",
            install: "install the Debian packages: apt-get install chromium chromium-driver",
        }
    }

    /// `JOURNEYPROBE_CHROMIUM`, else `chromium` on PATH.
    fn find_browser(&self) -> Option<PathBuf> {
        std::env::var_os("JOURNEYPROBE_CHROMIUM")
            .map(PathBuf::from)
            .or_else(|| crate::process::find_program("chromium"))
    }

    fn chooses_port(&self) -> bool {
        false
    }

    fn driver_args(&self, port: PortChoice) -> Vec<String> {
        let port = match port {
            PortChoice::Given(p) => p,
            PortChoice::Own => 0,
        };
        vec![format!("--port={port}"), "--allowed-ips=127.0.0.1".into()]
    }

    /// "ChromeDriver was started successfully on port 9515."
    fn listening(&self, line: &str, asked: Option<u16>) -> Option<u16> {
        line.contains("started successfully")
            .then_some(asked)
            .flatten()
    }

    fn driver_env(&self, _profiles: &Path) -> Vec<(&'static str, PathBuf)> {
        Vec::new()
    }

    fn sessions_per_driver(&self) -> Option<usize> {
        None
    }

    fn wants_profile_dir(&self) -> bool {
        true
    }

    /// A session opens in ~0.35 s warm, ~1 s on a loaded 2-core box (measured here).
    fn slow_start(&self) -> std::time::Duration {
        std::time::Duration::from_secs(3)
    }

    fn capabilities(&self, opts: &BrowserOptions) -> Capabilities {
        capabilities(opts)
    }

    fn devtools(&self) -> bool {
        true
    }

    fn net_error_reason(&self, code: &str) -> Reason {
        net_error_reason(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_own_network_failing_is_not_the_targets_fault() {
        assert_eq!(
            net_error_reason("ERR_CONNECTION_REFUSED"),
            Reason::NavigationFailed
        );
        assert_eq!(
            net_error_reason("ERR_CERT_DATE_INVALID"),
            Reason::NavigationFailed
        );
        assert_eq!(
            net_error_reason("ERR_INTERNET_DISCONNECTED"),
            Reason::ProberNetwork
        );
        assert_eq!(
            net_error_reason("ERR_PROXY_CONNECTION_FAILED"),
            Reason::ProberNetwork
        );
        assert_eq!(
            net_error_reason("the browser could not load the page"),
            Reason::ProberNetwork
        );
    }

    #[test]
    fn chromedriver_listens_on_the_port_it_was_given() {
        let e = Chromium;
        let line = "ChromeDriver was started successfully on port 40123.";
        assert_eq!(e.listening(line, Some(40123)), Some(40123));
        assert_eq!(
            e.listening("Starting ChromeDriver 156.0", Some(40123)),
            None
        );
        assert_eq!(
            e.driver_args(PortChoice::Given(40123)),
            ["--port=40123", "--allowed-ips=127.0.0.1"]
        );
    }

    #[test]
    fn a_headed_session_drops_only_the_headless_flag() {
        let caps = Chromium.capabilities(&BrowserOptions {
            headed: true,
            profile_dir: Some("/tmp/p".into()),
            ..Default::default()
        });
        let args = caps["goog:chromeOptions"]["args"].as_array().unwrap();
        assert!(
            !args
                .iter()
                .any(|a| a.as_str().unwrap().starts_with("--headless"))
        );
        assert!(args.iter().any(|a| a == "--user-data-dir=/tmp/p"));
        assert!(caps.get("moz:firefoxOptions").is_none());
    }
}

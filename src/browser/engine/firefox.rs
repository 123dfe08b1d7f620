//! Firefox through geckodriver (Debian's `firefox-esr`; geckodriver from crates.io,
//! `cargo install geckodriver --locked`). geckodriver serves one session per process (its
//! `/status` says `ready: false` while one is open), so every Firefox session gets a
//! geckodriver of its own, started on port 0 with its BiDi port 0 too (the default 9222
//! collides between instances). It makes each session's throw-away profile itself, under
//! its `TMPDIR`, which is a folder of ours, so the same sweep finds its browsers.
//!
//! Firefox has no Chrome DevTools passthrough: clicks are WebDriver's element click, fills
//! are typed, sessions are not pooled and no console log is kept (see [`Engine::devtools`]).

use std::path::{Path, PathBuf};

use fantoccini::wd::Capabilities;
use serde_json::json;

use super::{BrowserKind, BrowserOptions, DriverProgram, Engine, PortChoice, object};
use crate::outcome::Reason;

pub struct Firefox;

/// Preferences that keep a fresh profile fast and quiet on a closed network: no telemetry,
/// no first-run or what's-new pages, no update, add-on, safe-browsing, captive-portal or
/// remote-settings traffic (each of them a connection a closed network refuses).
const PREFS: &[(&str, PrefValue)] = &[
    ("app.normandy.enabled", PrefValue::Bool(false)),
    ("app.shield.optoutstudies.enabled", PrefValue::Bool(false)),
    ("app.update.auto", PrefValue::Bool(false)),
    ("app.update.disabledForTesting", PrefValue::Bool(true)),
    ("browser.aboutwelcome.enabled", PrefValue::Bool(false)),
    ("browser.discovery.enabled", PrefValue::Bool(false)),
    ("browser.newtabpage.enabled", PrefValue::Bool(false)),
    ("browser.ping-centre.telemetry", PrefValue::Bool(false)),
    ("browser.region.network.url", PrefValue::Str("")),
    ("browser.region.update.enabled", PrefValue::Bool(false)),
    (
        "browser.safebrowsing.downloads.enabled",
        PrefValue::Bool(false),
    ),
    (
        "browser.safebrowsing.malware.enabled",
        PrefValue::Bool(false),
    ),
    (
        "browser.safebrowsing.phishing.enabled",
        PrefValue::Bool(false),
    ),
    ("browser.search.update", PrefValue::Bool(false)),
    ("browser.shell.checkDefaultBrowser", PrefValue::Bool(false)),
    (
        "browser.startup.homepage_override.mstone",
        PrefValue::Str("ignore"),
    ),
    ("browser.startup.page", PrefValue::Int(0)),
    ("browser.tabs.warnOnClose", PrefValue::Bool(false)),
    (
        "datareporting.healthreport.uploadEnabled",
        PrefValue::Bool(false),
    ),
    (
        "datareporting.policy.dataSubmissionEnabled",
        PrefValue::Bool(false),
    ),
    ("extensions.getAddons.cache.enabled", PrefValue::Bool(false)),
    ("extensions.update.enabled", PrefValue::Bool(false)),
    (
        "network.captive-portal-service.enabled",
        PrefValue::Bool(false),
    ),
    (
        "network.connectivity-service.enabled",
        PrefValue::Bool(false),
    ),
    ("network.dns.disablePrefetch", PrefValue::Bool(true)),
    ("network.http.speculative-parallel-limit", PrefValue::Int(0)),
    ("network.prefetch-next", PrefValue::Bool(false)),
    (
        "services.settings.server",
        PrefValue::Str("http://127.0.0.1:1/"),
    ),
    ("toolkit.telemetry.enabled", PrefValue::Bool(false)),
    ("toolkit.telemetry.server", PrefValue::Str("")),
    ("toolkit.telemetry.unified", PrefValue::Bool(false)),
];

enum PrefValue {
    Bool(bool),
    Int(i64),
    Str(&'static str),
}

/// Firefox's network error codes (`about:neterror?e=…`, `about:certerror?e=…`) that say
/// the *target* could not be reached or spoke nonsense. Any other code (offline, proxy,
/// blocked by policy) is the prober's own network failing.
const TARGET_NET_ERRORS: &[&str] = &[
    "connectionFailure",
    "netReset",
    "netInterrupt",
    "netTimeout",
    "dnsNotFound",
    "redirectLoop",
    "unknownSocketType",
    "contentEncodingError",
    "corruptedContentErrorv2",
    "deniedPortAccess",
    "networkProtocolError",
    "nssFailure2",
    "nssBadCert",
    "inadequateSecurityError",
    "sslv3Used",
];

fn capabilities(opts: &BrowserOptions) -> Capabilities {
    let mut args = vec!["-width", "1280", "-height", "800"];
    if !opts.headed {
        args.insert(0, "-headless");
    }
    let prefs: serde_json::Map<String, serde_json::Value> = PREFS
        .iter()
        .map(|(k, v)| {
            let v = match v {
                PrefValue::Bool(b) => json!(b),
                PrefValue::Int(i) => json!(i),
                PrefValue::Str(s) => json!(s),
            };
            (k.to_string(), v)
        })
        .collect();
    let mut firefox = json!({ "args": args, "prefs": prefs });
    if let Some(bin) = &opts.binary {
        firefox["binary"] = json!(bin.display().to_string());
    }
    // moz:firefoxOptions alone: never goog:chromeOptions beside it.
    object(json!({
        "browserName": "firefox",
        "moz:firefoxOptions": firefox,
        "pageLoadStrategy": "normal",
        "unhandledPromptBehavior": "dismiss and notify",
    }))
}

impl Engine for Firefox {
    fn kind(&self) -> BrowserKind {
        BrowserKind::Firefox
    }

    fn driver(&self) -> DriverProgram {
        DriverProgram {
            name: "geckodriver",
            env: "JOURNEYPROBE_GECKODRIVER",
            install: "install Firefox and its driver: apt-get install firefox-esr, then \
                      cargo install geckodriver --locked (scripts/ensure-deps does both)",
        }
    }

    /// `JOURNEYPROBE_FIREFOX`, else `firefox-esr`, else `firefox` on PATH.
    fn find_browser(&self) -> Option<PathBuf> {
        std::env::var_os("JOURNEYPROBE_FIREFOX")
            .map(PathBuf::from)
            .or_else(|| crate::process::find_program("firefox-esr"))
            .or_else(|| crate::process::find_program("firefox"))
    }

    fn chooses_port(&self) -> bool {
        true
    }

    fn driver_args(&self, port: PortChoice) -> Vec<String> {
        let port = match port {
            PortChoice::Given(p) => p,
            PortChoice::Own => 0,
        };
        [
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--websocket-port",
            "0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// "1733000000000\tgeckodriver\tINFO\tListening on 127.0.0.1:40123"
    fn listening(&self, line: &str, _asked: Option<u16>) -> Option<u16> {
        let at = line.split("Listening on ").nth(1)?;
        at.trim().rsplit(':').next()?.parse().ok()
    }

    fn driver_env(&self, profiles: &Path) -> Vec<(&'static str, PathBuf)> {
        vec![("TMPDIR", profiles.to_path_buf())]
    }

    fn sessions_per_driver(&self) -> Option<usize> {
        Some(1)
    }

    fn wants_profile_dir(&self) -> bool {
        false
    }

    /// A session opens in ~1.7 s idle, ~4 s on a loaded 2-core box (measured here).
    fn slow_start(&self) -> std::time::Duration {
        std::time::Duration::from_secs(6)
    }

    fn capabilities(&self, opts: &BrowserOptions) -> Capabilities {
        capabilities(opts)
    }

    fn devtools(&self) -> bool {
        false
    }

    fn net_error_reason(&self, code: &str) -> Reason {
        if TARGET_NET_ERRORS.contains(&code) {
            Reason::NavigationFailed
        } else {
            Reason::ProberNetwork
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geckodriver_says_the_port_it_bound() {
        let e = Firefox;
        let line = "1733000000000\tgeckodriver\tINFO\tListening on 127.0.0.1:40123";
        assert_eq!(e.listening(line, None), Some(40123));
        assert_eq!(e.listening("geckodriver\tINFO\tstarting", None), None);
        let args = e.driver_args(PortChoice::Own);
        assert_eq!(
            args,
            [
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--websocket-port",
                "0"
            ]
        );
    }

    #[test]
    fn firefox_is_asked_for_with_its_own_options_only() {
        let caps = Firefox.capabilities(&BrowserOptions {
            binary: Some("/usr/bin/firefox-esr".into()),
            ..Default::default()
        });
        assert_eq!(caps["browserName"], "firefox");
        assert!(caps.get("goog:chromeOptions").is_none());
        assert!(caps.get("goog:loggingPrefs").is_none());
        let ff = &caps["moz:firefoxOptions"];
        assert_eq!(ff["binary"], "/usr/bin/firefox-esr");
        assert_eq!(ff["args"][0], "-headless");
        assert_eq!(ff["prefs"]["toolkit.telemetry.enabled"], false);
        let headed = Firefox.capabilities(&BrowserOptions {
            headed: true,
            ..Default::default()
        });
        assert!(
            !headed["moz:firefoxOptions"]["args"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "-headless")
        );
    }

    #[test]
    fn the_browsers_own_network_failing_is_not_the_targets_fault() {
        let e = Firefox;
        assert_eq!(
            e.net_error_reason("connectionFailure"),
            Reason::NavigationFailed
        );
        assert_eq!(e.net_error_reason("nssBadCert"), Reason::NavigationFailed);
        assert_eq!(e.net_error_reason("netOffline"), Reason::ProberNetwork);
        assert_eq!(
            e.net_error_reason("proxyConnectFailure"),
            Reason::ProberNetwork
        );
    }
}

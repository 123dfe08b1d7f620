//! `journeyprobe.yaml`: the settings of `serve`, so a service unit or container needs only
//! `journeyprobe serve --config /etc/journeyprobe.yaml`. Every key is optional; command-line
//! flags win over the file. Relative paths are relative to the file's folder.
//!
//! ```yaml
//! probes: [journeys/]
//! listen: 127.0.0.1:9464
//! data_dir: /var/lib/journeyprobe
//! browser_slots: 2
//! check_slots: 16
//! webdriver: http://127.0.0.1:4444   # omit to start chromedriver here
//! shutdown_grace: 30s
//! artifacts: true
//! artifacts_max_mb: 1024
//! history: { max_age: 30d, max_runs: 1000000 }
//! events_token: ${env:JOURNEYPROBE_EVENTS_TOKEN}
//! pool: { enabled: true, max_runs: 50, max_memory_mb: 450 }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

use super::diag::{Diagnostic, Diags, mapping_start, start_of};
use super::reader::{Reader, join, kind_name};
use super::refs::Env;

const KEYS: &[&str] = &[
    "probes",
    "listen",
    "data_dir",
    "browser_slots",
    "check_slots",
    "webdriver",
    "shutdown_grace",
    "artifacts",
    "artifacts_max_mb",
    "history",
    "events_token",
    "env",
    "pool",
];

/// Most browser sessions at once: each Chromium takes a few hundred MB.
pub const MAX_BROWSER_SLOTS: u32 = 64;
/// Most checks at once.
pub const MAX_CHECK_SLOTS: u32 = 4096;

/// What the file sets; `None` where it is silent.
#[derive(Clone, Debug, Default)]
pub struct ServeFile {
    pub probes: Vec<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub browser_slots: Option<usize>,
    pub check_slots: Option<usize>,
    pub webdriver: Option<String>,
    pub shutdown_grace: Option<Duration>,
    pub artifacts: Option<bool>,
    pub artifacts_max_mb: Option<u64>,
    pub history_max_age: Option<Duration>,
    pub history_max_runs: Option<u64>,
    /// Write in the file as a reference (`${env:…}` or `${file:…}`), not literally.
    pub events_token: Option<String>,
    /// The `envs:` block of the probe files to use (`--env`).
    pub env: Option<String>,
    /// `pool.enabled`: warm browser sessions reused across runs.
    pub pool_enabled: Option<bool>,
    /// `pool.max_runs`: runs a session serves before it is replaced.
    pub pool_max_runs: Option<u32>,
    /// `pool.max_memory_mb`: a browser using more is replaced after its run.
    pub pool_max_memory_mb: Option<u64>,
}

/// Read and validate a `journeyprobe.yaml`; every problem is reported.
pub fn load_serve_file(path: &Path, env: &dyn Env) -> Result<ServeFile, Vec<Diagnostic>> {
    let mut d = Diags::new(path);
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            d.whole_file(format!("cannot read: {e}"));
            return Err(d.items);
        }
    };
    let mut r = Reader {
        d,
        values: BTreeMap::new(),
        env,
        base_dir: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        recorded: BTreeMap::new(),
    };
    let root = match super::reader::load_yaml(&text, &mut r.d) {
        Some(Node::Mapping(m)) => m,
        Some(other) => {
            let msg = format!(
                "the serve settings are a mapping, found {}",
                kind_name(&other)
            );
            r.d.at(&start_of(&other), "", msg);
            return Err(r.d.items);
        }
        None => return Err(r.d.items),
    };
    let file = read(&mut r, &root);
    if r.d.is_empty() {
        Ok(file)
    } else {
        r.d.items.sort_by_key(|d| (d.line, d.column));
        Err(r.d.items)
    }
}

fn read(r: &mut Reader, root: &MarkedMappingNode) -> ServeFile {
    r.known_keys(root, "", KEYS);
    let base = r.base_dir.clone();
    let mut f = ServeFile::default();
    if let Some(n) = root.get_node("probes") {
        let items: Vec<&Node> = match n {
            Node::Sequence(s) => s.iter().collect(),
            other => vec![other],
        };
        f.probes = items
            .into_iter()
            .filter_map(|n| r.text(n, "probes"))
            .map(|p| base.join(p))
            .collect();
    }
    if let Some(n) = root.get_node("listen") {
        f.listen = r.text(n, "listen").and_then(|s| match s.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                let msg = format!("'{s}' is not an address:port such as 127.0.0.1:9464");
                r.d.at(n.span(), "listen", msg);
                None
            }
        });
    }
    f.data_dir = root
        .get_node("data_dir")
        .and_then(|n| r.text(n, "data_dir"))
        .map(|p| base.join(p));
    f.browser_slots = slots(r, root, "browser_slots", MAX_BROWSER_SLOTS);
    f.check_slots = slots(r, root, "check_slots", MAX_CHECK_SLOTS);
    if let Some(n) = root.get_node("webdriver") {
        f.webdriver = r.text(n, "webdriver").filter(|u| {
            let ok = url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                r.d.at(
                    n.span(),
                    "webdriver",
                    format!("'{u}' is not an http(s) URL"),
                );
            }
            ok
        });
    }
    f.shutdown_grace = root
        .get_node("shutdown_grace")
        .and_then(|n| r.duration(n, "shutdown_grace"));
    if let Some(n) = root.get_node("artifacts") {
        f.artifacts = read_bool(r, n, "artifacts");
    }
    f.artifacts_max_mb = root
        .get_node("artifacts_max_mb")
        .and_then(|n| r.count(n, "artifacts_max_mb", u32::MAX))
        .map(u64::from);
    if let Some(n) = root.get_node("history") {
        read_history(r, n, &mut f);
    }
    f.events_token = root
        .get_node("events_token")
        .and_then(|n| r.text(n, "events_token"));
    f.env = root.get_node("env").and_then(|n| r.literal(n, "env"));
    if let Some(n) = root.get_node("pool") {
        read_pool(r, n, &mut f);
    }
    f
}

fn read_pool(r: &mut Reader, node: &Node, f: &mut ServeFile) {
    let Some(m) = r.mapping(node, "pool") else {
        return;
    };
    r.known_keys(m, "pool", &["enabled", "max_runs", "max_memory_mb"]);
    if let Some(n) = m.get_node("enabled") {
        f.pool_enabled = read_bool(r, n, &join("pool", "enabled"));
    }
    let at_least_one = |r: &mut Reader, key: &str, max: u32| {
        let n = m.get_node(key)?;
        let path = join("pool", key);
        let v = r.count(n, &path, max)?;
        if v == 0 {
            r.d.at(n.span(), &path, "must be at least 1");
            return None;
        }
        Some(v)
    };
    f.pool_max_runs = at_least_one(r, "max_runs", 1_000_000);
    f.pool_max_memory_mb = at_least_one(r, "max_memory_mb", 1_000_000).map(u64::from);
}

fn read_bool(r: &mut Reader, n: &Node, key: &str) -> Option<bool> {
    r.literal(n, key).and_then(|s| match s.as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            r.d.at(
                n.span(),
                key,
                format!("expected true or false, found '{s}'"),
            );
            None
        }
    })
}

fn slots(r: &mut Reader, root: &MarkedMappingNode, key: &str, max: u32) -> Option<usize> {
    let n = root.get_node(key)?;
    let v = r.count(n, key, max)?;
    if v == 0 {
        r.d.at(n.span(), key, "must be at least 1");
        return None;
    }
    Some(v as usize)
}

fn read_history(r: &mut Reader, node: &Node, f: &mut ServeFile) {
    let Some(m) = r.mapping(node, "history") else {
        return;
    };
    r.known_keys(m, "history", &["max_age", "max_runs"]);
    f.history_max_age = m
        .get_node("max_age")
        .and_then(|n| r.duration(n, &join("history", "max_age")));
    if let Some(n) = m.get_node("max_runs") {
        let key = join("history", "max_runs");
        f.history_max_runs = r.count(n, &key, u32::MAX).and_then(|v| {
            if v == 0 {
                r.d.at(
                    n.span(),
                    &key,
                    "must be at least 1 (history keeps the runs BPMs are computed from)",
                );
                return None;
            }
            Some(u64::from(v))
        });
    }
    if m.is_empty() {
        r.d.at(
            &mapping_start(m),
            "history",
            "an empty history mapping; remove it or set max_age / max_runs",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<ServeFile, Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journeyprobe.yaml");
        std::fs::write(&path, text).unwrap();
        let env = BTreeMap::<String, String>::new();
        load_serve_file(&path, &env).map_err(|d| {
            d.iter()
                .map(|d| {
                    d.to_string()
                        .replace(&dir.path().display().to_string(), "DIR")
                })
                .collect()
        })
    }

    #[test]
    fn every_setting_is_read_and_paths_are_relative_to_the_file() {
        let f = load(
            "probes: [journeys/]\nlisten: 127.0.0.1:9999\ndata_dir: data\nbrowser_slots: 3\n\
             shutdown_grace: 10s\nartifacts: false\nhistory: { max_age: 2d, max_runs: 500 }\n",
        )
        .unwrap();
        assert!(f.probes[0].ends_with("journeys/"));
        assert_eq!(f.listen, Some("127.0.0.1:9999".parse().unwrap()));
        assert_eq!(f.browser_slots, Some(3));
        assert_eq!(f.shutdown_grace, Some(Duration::from_secs(10)));
        assert_eq!(f.artifacts, Some(false));
        assert_eq!(f.history_max_age, Some(Duration::from_secs(2 * 86400)));
        assert_eq!(f.history_max_runs, Some(500));
        assert!(f.data_dir.unwrap().ends_with("data"));
    }

    #[test]
    fn the_example_settings_file_loads_with_its_stated_values() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/journeyprobe.yaml");
        let f = load_serve_file(&path, &BTreeMap::<String, String>::new())
            .unwrap_or_else(|d| panic!("{d:?}"));
        assert_eq!(f.browser_slots, Some(2));
        // Its pool settings are the pool's defaults: browser/pool.rs tests that (config
        // does not depend on the browser).
        assert_eq!(f.pool_enabled, Some(true));
    }

    #[test]
    fn pool_settings_are_read_and_checked() {
        let f = load("pool: { enabled: false, max_runs: 20, max_memory_mb: 300 }\n").unwrap();
        assert_eq!(
            (f.pool_enabled, f.pool_max_runs, f.pool_max_memory_mb),
            (Some(false), Some(20), Some(300))
        );
        let e = load("pool:\n  enabled: maybe\n  max_runs: 0\n  size: 3\n").unwrap_err();
        assert_eq!(
            e,
            [
                "DIR/journeyprobe.yaml:2:12: pool.enabled: expected true or false, found 'maybe'",
                "DIR/journeyprobe.yaml:3:13: pool.max_runs: must be at least 1",
                "DIR/journeyprobe.yaml:4:3: pool.size: unknown key 'size' — expected one of: \
                 enabled, max_runs, max_memory_mb",
            ],
        );
    }

    #[test]
    fn bad_settings_are_named_with_line_and_key() {
        let e = load("listen: nowhere\nbrowser_slots: 0\nbrowser_slot: 2\n").unwrap_err();
        assert_eq!(
            e,
            vec![
                "DIR/journeyprobe.yaml:1:9: listen: 'nowhere' is not an address:port such as 127.0.0.1:9464",
                "DIR/journeyprobe.yaml:2:16: browser_slots: must be at least 1",
                "DIR/journeyprobe.yaml:3:1: browser_slot: unknown key 'browser_slot' — did you mean 'browser_slots'?",
            ]
        );
    }
}

//! `bpms:` — business value proxy metrics: a named success ratio over some probes, watched
//! over windows against an expected band. Any probe file may hold a `bpms:` list; a journey
//! that no BPM names becomes its own BPM with the band `{min: 0.95}`.

use std::path::PathBuf;
use std::time::Duration;

use marked_yaml::Node;

use super::diag::{mapping_start, position, start_of};
use super::reader::{Reader, is_probe_name, join, kind_name};

/// Windows of a BPM that does not name its own.
pub const DEFAULT_WINDOWS: [Duration; 3] = [
    Duration::from_secs(5 * 60),
    Duration::from_secs(3600),
    Duration::from_secs(24 * 3600),
];
/// The band of a journey's own BPM.
pub const DEFAULT_MIN: f64 = 0.95;
/// Shortest window: a ratio over less than a minute is noise at any sane `every`.
pub const MIN_WINDOW: Duration = Duration::from_secs(60);
/// Longest window, bounded by how long history is kept by default.
pub const MAX_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);

const BPM_KEYS: &[&str] = &["name", "description", "probes", "windows", "expected"];

/// The expected band of a ratio. At least one bound is set; `0 ≤ min ≤ max ≤ 1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

crate::closed::closed_set! {
    /// Where a BPM stands over a window: its ratio against the band, or no ratio at all.
    /// The text is the `state` label of `journeyprobe_bpm_state`, the API's `state` and the
    /// board's CSS class.
    pub enum BpmState {
        InBand => "in_band",
        Below => "below",
        Above => "above",
        /// The window holds no countable run: no ratio, neither in nor out of band.
        NoData => "no_data",
    }
}

impl BpmState {
    /// Below or above the band.
    pub fn is_out_of_band(self) -> bool {
        match self {
            BpmState::Below | BpmState::Above => true,
            BpmState::InBand | BpmState::NoData => false,
        }
    }
}

impl Band {
    /// Where `ratio` stands: `InBand`, `Below` or `Above`, never `NoData`.
    pub fn state(&self, ratio: f64) -> BpmState {
        match (self.min, self.max) {
            (Some(min), _) if ratio < min => BpmState::Below,
            (_, Some(max)) if ratio > max => BpmState::Above,
            _ => BpmState::InBand,
        }
    }
}

/// A BPM, validated.
#[derive(Clone, Debug)]
pub struct Bpm {
    pub name: String,
    pub description: Option<String>,
    /// Journeys and/or checks whose runs it counts.
    pub probes: Vec<String>,
    pub windows: Vec<Duration>,
    pub expected: Band,
    /// True for the BPM a journey gets when no BPM names it.
    pub implicit: bool,
    pub file: PathBuf,
    pub name_at: (usize, usize),
}

/// A window as Prometheus writes durations and as it appears in the `window` label:
/// `90s`, `5m`, `1h`, `24h`.
pub fn window_label(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

pub fn read_bpms(r: &mut Reader, node: &Node) -> Vec<Bpm> {
    let Node::Sequence(items) = node else {
        let msg = format!("bpms is a list (- name: …), found {}", kind_name(node));
        r.d.at(&start_of(node), "bpms", msg);
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, n)| read_bpm(r, n, &format!("bpms[{}]", i + 1)))
        .collect()
}

fn read_bpm(r: &mut Reader, node: &Node, key: &str) -> Option<Bpm> {
    let map = r.mapping(node, key)?;
    r.known_keys(map, key, BPM_KEYS);
    let name = r
        .required(map, key, "name")
        .and_then(|n| r.literal(n, &join(key, "name")));
    let name = name.filter(|n| {
        let ok = is_probe_name(n);
        if !ok {
            let at = map
                .get_node("name")
                .map(start_of)
                .unwrap_or_else(|| mapping_start(map));
            let msg = format!("BPM name '{n}' may only use a-z, 0-9 and '_'");
            r.d.hint(
                &at,
                &join(key, "name"),
                msg,
                "it becomes a metric label".into(),
            );
        }
        ok
    });
    let description = map
        .get_node("description")
        .and_then(|n| r.literal(n, &join(key, "description")));
    let probes = r
        .required(map, key, "probes")
        .and_then(|n| read_names(r, n, &join(key, "probes")));
    let windows = match map.get_node("windows") {
        Some(n) => read_windows(r, n, &join(key, "windows")),
        None => Some(DEFAULT_WINDOWS.to_vec()),
    };
    let expected = r
        .required(map, key, "expected")
        .and_then(|n| read_band(r, n, &join(key, "expected")));
    Some(Bpm {
        name: name?,
        description,
        probes: probes?,
        windows: windows?,
        expected: expected?,
        implicit: false,
        file: r.d.file().to_path_buf(),
        name_at: map
            .get_node("name")
            .map(|n| position(n.span()))
            .unwrap_or((1, 1)),
    })
}

fn list<'n>(r: &mut Reader, node: &'n Node, key: &str) -> Option<Vec<&'n Node>> {
    match node {
        Node::Sequence(items) if !items.is_empty() => Some(items.iter().collect()),
        Node::Sequence(_) => {
            r.d.at(&start_of(node), key, "must list at least one entry");
            None
        }
        other => {
            let msg = format!("expected a list, found {}", kind_name(other));
            r.d.at(&start_of(other), key, msg);
            None
        }
    }
}

/// Probe names; that each names a loaded probe is checked once all files are read.
fn read_names(r: &mut Reader, node: &Node, key: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut ok = true;
    for n in list(r, node, key)? {
        match r.literal(n, key) {
            Some(name) if out.contains(&name) => {
                r.d.at(n.span(), key, format!("'{name}' is listed twice"));
                ok = false;
            }
            Some(name) => out.push(name),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn read_windows(r: &mut Reader, node: &Node, key: &str) -> Option<Vec<Duration>> {
    let mut out: Vec<Duration> = Vec::new();
    let mut ok = true;
    for n in list(r, node, key)? {
        let Some(d) = r.duration(n, key) else {
            ok = false;
            continue;
        };
        let problem = if d < MIN_WINDOW || d > MAX_WINDOW {
            Some("a window is from 1m to 30 days".to_string())
        } else if d.subsec_nanos() != 0 {
            Some("a window is a whole number of seconds".to_string())
        } else if out.contains(&d) {
            Some(format!("window {} is listed twice", window_label(d)))
        } else {
            None
        };
        match problem {
            Some(msg) => {
                r.d.at(n.span(), key, msg);
                ok = false;
            }
            None => out.push(d),
        }
    }
    ok.then_some(out)
}

fn read_band(r: &mut Reader, node: &Node, key: &str) -> Option<Band> {
    let map = r.mapping(node, key)?;
    r.known_keys(map, key, &["min", "max"]);
    let mut bound = |name: &str| -> Option<Option<f64>> {
        let Some(n) = map.get_node(name) else {
            return Some(None);
        };
        let k = join(key, name);
        let v = r.float(n, &k)?;
        if !(0.0..=1.0).contains(&v) {
            let msg = format!("{name} {v} is not a ratio from 0 to 1");
            r.d.hint(n.span(), &k, msg, "write 95% as 0.95".into());
            return None;
        }
        Some(Some(v))
    };
    let (min, max) = (bound("min"), bound("max"));
    let band = Band {
        min: min?,
        max: max?,
    };
    match (band.min, band.max) {
        (None, None) => {
            let msg = "give min:, max: or both";
            r.d.at(&mapping_start(map), key, msg);
            None
        }
        (Some(lo), Some(hi)) if lo > hi => {
            let msg = format!("min {lo} is above max {hi}");
            r.d.at(&mapping_start(map), key, msg);
            None
        }
        _ => Some(band),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_states_follow_both_bounds() {
        let b = Band {
            min: Some(0.6),
            max: Some(0.8),
        };
        assert_eq!(b.state(0.5), BpmState::Below);
        assert_eq!(b.state(0.6), BpmState::InBand);
        assert_eq!(b.state(0.8), BpmState::InBand);
        assert_eq!(b.state(0.81), BpmState::Above);
        let only_min = Band {
            min: Some(0.95),
            max: None,
        };
        assert_eq!(only_min.state(1.0), BpmState::InBand);
    }

    #[test]
    fn window_labels_use_the_largest_whole_unit() {
        assert_eq!(window_label(Duration::from_secs(300)), "5m");
        assert_eq!(window_label(Duration::from_secs(86400)), "24h");
        assert_eq!(window_label(Duration::from_secs(90)), "90s");
    }
}

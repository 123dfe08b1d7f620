//! `journeyprobe list [PATHS…]` — every probe with its kind, schedule, the BPMs it feeds,
//! its prerequisites and incident links; then every BPM with its band.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use super::ExitCode;
use crate::config::bpm::window_label;
use crate::config::{self, Band, Loaded, ProbeKind, ProcessEnv, SecretsUnused};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Probe files or folders (searched recursively for *.yaml / *.yml). Default: journeys/
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = super::Format::Human)]
    pub format: super::Format,
}

pub fn run(args: Args) -> ExitCode {
    let paths = super::default_paths(args.paths);
    let loaded = match config::load(&paths, &SecretsUnused(&ProcessEnv)) {
        Ok(l) => l,
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("error: {} problem(s) in the probe files", problems.len());
            return ExitCode::Usage;
        }
    };
    let rows = rows(&loaded);
    match args.format {
        super::Format::Json => {
            let bpms: Vec<_> = loaded.bpms.iter().map(bpm_json).collect();
            say!(
                "{}",
                json!({ "probes": rows.iter().map(Row::json).collect::<Vec<_>>(), "bpms": bpms })
            );
        }
        super::Format::Human => print_human(&rows, &loaded),
    }
    ExitCode::Passed
}

struct Row {
    name: String,
    kind: ProbeKind,
    every: Duration,
    timeout: Duration,
    retries: u32,
    bpms: Vec<String>,
    depends_on: Vec<String>,
    incident: Vec<String>,
    runbook: Option<String>,
    file: PathBuf,
}

impl Row {
    fn json(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "kind": self.kind,
            "every_seconds": self.every.as_secs_f64(),
            "timeout_seconds": self.timeout.as_secs_f64(),
            "retries": self.retries,
            "bpms": self.bpms,
            "depends_on": self.depends_on,
            "incident": self.incident,
            "runbook": self.runbook,
            "file": self.file,
        })
    }
}

fn rows(l: &Loaded) -> Vec<Row> {
    let feeds = |name: &str| -> Vec<String> {
        l.bpms
            .iter()
            .filter(|b| b.probes.iter().any(|p| p == name))
            .map(|b| b.name.clone())
            .collect()
    };
    let journeys = l.journeys.iter().map(|j| Row {
        name: j.name.clone(),
        kind: ProbeKind::Journey,
        every: j.every,
        timeout: j.timeout,
        retries: j.retries,
        bpms: feeds(&j.name),
        depends_on: j.depends_on.iter().map(|(d, _)| d.clone()).collect(),
        incident: j.incident.clone(),
        runbook: j.runbook.clone(),
        file: j.file.clone(),
    });
    let checks = l.checks.iter().map(|c| Row {
        name: c.name.clone(),
        kind: c.spec.kind().into(),
        every: c.every,
        timeout: c.timeout,
        retries: c.retries,
        bpms: feeds(&c.name),
        depends_on: Vec::new(),
        incident: Vec::new(),
        runbook: None,
        file: c.file.clone(),
    });
    journeys.chain(checks).collect()
}

fn dur(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn or_dash(v: &[String]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.join(",")
    }
}

fn print_human(rows: &[Row], l: &Loaded) {
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let links: Vec<String> = r
                .incident
                .iter()
                .cloned()
                .chain(r.runbook.clone())
                .collect();
            [
                r.name.clone(),
                r.kind.to_string(),
                format!("{} / {}", dur(r.every), dur(r.timeout)),
                r.retries.to_string(),
                or_dash(&r.bpms),
                or_dash(&r.depends_on),
                or_dash(&links).replace(',', " "),
            ]
        })
        .collect();
    let header = [
        "PROBE",
        "KIND",
        "EVERY / TIMEOUT",
        "RETRIES",
        "BPMS",
        "DEPENDS ON",
        "INCIDENT / RUNBOOK",
    ];
    print_table(&header, &table);
    say!("");
    let bpms: Vec<[String; 4]> = l
        .bpms
        .iter()
        .map(|b| {
            let windows: Vec<String> = b.windows.iter().map(|w| window_label(*w)).collect();
            let name = if b.implicit {
                format!("{} (the journey's own)", b.name)
            } else {
                b.name.clone()
            };
            [
                name,
                band(&b.expected),
                windows.join(","),
                b.probes.join(","),
            ]
        })
        .collect();
    print_table(&["BPM", "EXPECTED", "WINDOWS", "PROBES"], &bpms);
}

fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        say!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

/// `0.95 – 1`, `≥ 0.95`, `≤ 0.8`.
fn band(b: &Band) -> String {
    match (b.min, b.max) {
        (Some(lo), Some(hi)) => format!("{lo} – {hi}"),
        (Some(lo), None) => format!("≥ {lo}"),
        (None, Some(hi)) => format!("≤ {hi}"),
        (None, None) => "-".into(),
    }
}

fn bpm_json(b: &config::Bpm) -> serde_json::Value {
    json!({
        "name": b.name,
        "description": b.description,
        "implicit": b.implicit,
        "probes": b.probes,
        "windows": b.windows.iter().map(|w| window_label(*w)).collect::<Vec<_>>(),
        "expected": { "min": b.expected.min, "max": b.expected.max },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_read_as_intervals() {
        let b = |min, max| band(&Band { min, max });
        assert_eq!(b(Some(0.6), Some(0.8)), "0.6 – 0.8");
        assert_eq!(b(Some(0.95), None), "≥ 0.95");
        assert_eq!(b(None, Some(0.8)), "≤ 0.8");
    }
}

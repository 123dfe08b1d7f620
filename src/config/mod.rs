//! Probe files: parse (spanned YAML), then validate into the domain types of [`model`].
//!
//! We read YAML with `marked-yaml` rather than `serde_yaml` because every diagnostic must
//! name the file, line, column and key, and validation must report *every* problem in a
//! file, not stop at the first one as a serde deserializer does.

pub mod bpm;
pub mod check_model;
pub mod checks;
pub mod diag;
pub mod envs;
pub mod file;
pub mod journey;
pub mod kind;
pub mod model;
mod reader;
pub mod refs;
pub mod schedule;
pub mod service;
pub mod steps;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use bpm::{Band, Bpm, BpmState};
pub use check_model::{Check, CheckSpec};
pub use diag::Diagnostic;
pub use kind::{CheckKind, ProbeKind};
pub use model::*;
pub use refs::{Env, ProcessEnv, SecretsUnused};

/// Everything loaded from a set of paths.
#[derive(Debug)]
pub struct Loaded {
    pub journeys: Vec<Journey>,
    pub checks: Vec<Check>,
    /// Every BPM: those the files define, then one per journey that none of them names.
    pub bpms: Vec<Bpm>,
    pub files: Vec<PathBuf>,
    /// Each file's text as read, for content hashes of probe definitions.
    pub texts: BTreeMap<PathBuf, String>,
    /// Every environment some file's `envs:` defines.
    pub environments: std::collections::BTreeSet<String>,
}

/// Load and validate every probe file under `paths` (files, or folders searched recursively
/// for `*.yaml` / `*.yml`). Returns every problem in every file, or the journeys.
pub fn load(paths: &[PathBuf], env: &dyn Env) -> Result<Loaded, Vec<Diagnostic>> {
    load_for(paths, env, None)
}

/// [`load`] for one environment (`--env NAME`): files with `envs:` take that block's vars,
/// and one without a block of that name is a problem; files without `envs:` are unaffected.
pub fn load_for(
    paths: &[PathBuf],
    env: &dyn Env,
    environment: Option<&str>,
) -> Result<Loaded, Vec<Diagnostic>> {
    let (files, mut problems) = collect_files(paths);
    let mut environments = std::collections::BTreeSet::new();
    let mut journeys = Vec::new();
    let mut checks = Vec::new();
    let mut bpms = Vec::new();
    let mut texts = BTreeMap::new();
    for file in &files {
        match std::fs::read(file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => {
                    let (parsed, d) = file::parse_file_in(file, &text, env, environment);
                    problems.extend(d.items);
                    if let Some(p) = parsed {
                        environments.extend(p.environments);
                        journeys.extend(p.journey);
                        checks.extend(p.checks);
                        bpms.extend(p.bpms);
                    }
                    texts.insert(file.clone(), text);
                }
                Err(_) => problems.push(file_problem(file, "is not UTF-8 text")),
            },
            Err(e) => problems.push(file_problem(file, &format!("cannot read: {e}"))),
        }
    }
    problems.extend(duplicate_names(&journeys, &checks));
    problems.extend(unknown_prerequisites(&journeys, &checks, &files));
    problems.extend(bpm_problems(&bpms, &journeys, &checks));
    let bpms = with_implicit_bpms(bpms, &journeys);
    if problems.is_empty() {
        Ok(Loaded {
            journeys,
            checks,
            bpms,
            files,
            texts,
            environments,
        })
    } else {
        Err(problems)
    }
}

fn file_problem(file: &Path, message: &str) -> Diagnostic {
    let mut d = diag::Diags::new(file);
    d.whole_file(message);
    d.items.remove(0)
}

/// Files named directly are taken whatever their extension; folders contribute their
/// `*.yaml` / `*.yml` files, sorted, recursively.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        if p.is_dir() {
            if let Err(e) = walk(p, &mut files) {
                problems.push(file_problem(p, &format!("cannot read folder: {e}")));
            }
        } else if p.exists() {
            files.push(p.clone());
        } else {
            problems.push(file_problem(p, "no such file or folder"));
        }
    }
    if paths.is_empty() {
        problems.push(Diagnostic {
            file: PathBuf::from("."),
            line: 0,
            column: 0,
            key: String::new(),
            message: "no probe files given".into(),
            hint: Some("pass probe files or folders, e.g. journeys/".into()),
        });
    }
    (files, problems)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// Every `depends_on` entry names a check loaded in the same run.
fn unknown_prerequisites(
    journeys: &[Journey],
    checks: &[Check],
    loaded: &[PathBuf],
) -> Vec<Diagnostic> {
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    let journey_names: Vec<&str> = journeys.iter().map(|j| j.name.as_str()).collect();
    let mut out = Vec::new();
    for j in journeys {
        for (dep, (line, column)) in &j.depends_on {
            if names.contains(&dep.as_str()) {
                continue;
            }
            let (message, hint) = if journey_names.contains(&dep.as_str()) {
                (
                    format!("'{dep}' is a journey; depends_on names checks"),
                    None,
                )
            } else {
                (
                    format!("no check named '{dep}' in the probe files loaded"),
                    diag::suggest(dep, &names).or_else(|| beside(&j.file, dep, loaded)),
                )
            };
            out.push(Diagnostic {
                file: j.file.clone(),
                line: *line,
                column: *column,
                key: "depends_on".into(),
                message,
                hint,
            });
        }
    }
    out
}

/// A hint when a probe file next to `file`, not loaded, seems to define check `name` (a
/// line `- name: NAME`): a journey file named alone, whose checks live beside it. Only a
/// hint, so a look at the text is enough; the file is not parsed.
fn beside(file: &Path, name: &str, loaded: &[PathBuf]) -> Option<String> {
    let dir = file.parent()?;
    let read = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let defines = |text: &str| {
        text.lines()
            .any(|l| l.trim_start().strip_prefix("- name:").map(str::trim) == Some(name))
    };
    let mut siblings: Vec<PathBuf> = std::fs::read_dir(read)
        .ok()?
        .filter_map(|e| Some(dir.join(e.ok()?.file_name())))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .filter(|p| p != file && !loaded.contains(p))
        .collect();
    siblings.sort();
    let found = siblings
        .iter()
        .find(|f| std::fs::read_to_string(f).is_ok_and(|t| defines(&t)))?;
    let folder = if dir.as_os_str().is_empty() {
        ".".to_string()
    } else {
        format!("{}/", dir.display())
    };
    Some(format!(
        "{} defines it: load that file too, or the folder ({folder})",
        found.display()
    ))
}

/// Probe names are unique across journeys and checks: they become metric labels.
fn duplicate_names(journeys: &[Journey], checks: &[Check]) -> Vec<Diagnostic> {
    let all = journeys
        .iter()
        .map(|j| (&j.name, &j.file, j.name_at, "journey"))
        .chain(
            checks
                .iter()
                .map(|c| (&c.name, &c.file, c.name_at, "check")),
        );
    let mut first: BTreeMap<&str, (&PathBuf, (usize, usize), &str)> = BTreeMap::new();
    let mut out = Vec::new();
    for (name, file, at, kind) in all {
        if let Some((pfile, pat, pkind)) = first.get(name.as_str()) {
            out.push(Diagnostic {
                file: file.clone(),
                line: at.0,
                column: at.1,
                key: "name".into(),
                message: format!(
                    "{kind} name '{name}' is already used by the {pkind} at {}:{}:{}",
                    pfile.display(),
                    pat.0,
                    pat.1
                ),
                hint: Some("names are unique across all probe files".into()),
            });
        } else {
            first.insert(name, (file, at, kind));
        }
    }
    out
}

/// BPM names are unique (they become labels); every probe a BPM names is loaded.
fn bpm_problems(bpms: &[Bpm], journeys: &[Journey], checks: &[Check]) -> Vec<Diagnostic> {
    let probes: Vec<&str> = journeys
        .iter()
        .map(|j| j.name.as_str())
        .chain(checks.iter().map(|c| c.name.as_str()))
        .collect();
    let mut out = Vec::new();
    for (i, b) in bpms.iter().enumerate() {
        let at = |message: String, hint: Option<String>| Diagnostic {
            file: b.file.clone(),
            line: b.name_at.0,
            column: b.name_at.1,
            key: "bpms".into(),
            message,
            hint,
        };
        if let Some(first) = bpms[..i].iter().find(|p| p.name == b.name) {
            out.push(at(
                format!(
                    "BPM name '{}' is already used at {}:{}:{}",
                    b.name,
                    first.file.display(),
                    first.name_at.0,
                    first.name_at.1
                ),
                None,
            ));
        }
        for p in b.probes.iter().filter(|p| !probes.contains(&p.as_str())) {
            out.push(at(
                format!("BPM '{}' names probe '{p}', which is not loaded", b.name),
                diag::suggest(p, &probes),
            ));
        }
        let own = journeys
            .iter()
            .find(|j| j.name == b.name && !bpms.iter().any(|o| o.probes.contains(&j.name)));
        if let Some(j) = own {
            out.push(at(
                format!(
                    "BPM name '{}' is taken by the journey of that name, which no BPM counts and so is its own BPM",
                    b.name
                ),
                Some(format!(
                    "name the BPM differently, or list '{}' in its probes",
                    j.name
                )),
            ));
        }
    }
    out
}

/// Append the BPM of every journey that no defined BPM counts.
fn with_implicit_bpms(mut bpms: Vec<Bpm>, journeys: &[Journey]) -> Vec<Bpm> {
    let named: Vec<String> = bpms.iter().flat_map(|b| b.probes.clone()).collect();
    for j in journeys.iter().filter(|j| !named.contains(&j.name)) {
        bpms.push(Bpm {
            name: j.name.clone(),
            description: j.description.clone(),
            probes: vec![j.name.clone()],
            windows: bpm::DEFAULT_WINDOWS.to_vec(),
            expected: Band {
                min: Some(bpm::DEFAULT_MIN),
                max: None,
            },
            implicit: true,
            file: j.file.clone(),
            name_at: j.name_at,
        });
    }
    bpms
}

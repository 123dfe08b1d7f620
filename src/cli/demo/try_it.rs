//! The commands `demo` prints under the board's address, ready to paste: the shipped login
//! journey run once against the demo's lab, and `repro` of a failed run. They name this very
//! binary (`journeyprobe` when that is what `PATH` finds, else its path) and paths as seen
//! from the demo's working directory, so each line runs as printed from there.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// What the pasted commands need to know about the running demo.
pub(super) struct TryIt {
    /// This binary, as a shell word.
    exe: String,
    /// The lab's base URL, with its real port.
    lab: String,
    /// The shipped login journey.
    journey: String,
    /// The file holding the demo password.
    password: String,
    /// The demo's data folder (its history).
    data_dir: String,
    /// `ASSETS_ENDPOINT=… LAB_NAMESERVER=…`: where the checks of the shipped login file find
    /// the lab's S3 and DNS servers (each when the lab runs it).
    servers: String,
    /// The lab lacks a server one of those checks asks: run the journey alone (its checks
    /// still run when it fails), so a check of a server that is not there fails no line.
    journey_only: bool,
}

impl TryIt {
    pub(super) fn new(
        exe: &Path,
        cwd: &Path,
        lab: &str,
        journey: &Path,
        password: &Path,
        data_dir: &Path,
    ) -> TryIt {
        TryIt {
            exe: exe_word(exe, cwd, std::env::var_os("PATH").as_deref()),
            lab: lab.to_string(),
            journey: shell_word(&seen_from(journey, cwd)),
            password: shell_word(&seen_from(password, cwd)),
            data_dir: shell_word(&seen_from(data_dir, cwd)),
            servers: String::new(),
            journey_only: false,
        }
    }

    /// The lab's S3 endpoint and DNS server, where it runs them.
    pub(super) fn with_servers(mut self, s3: Option<&str>, dns: Option<SocketAddr>) -> TryIt {
        if let Some(s3) = s3 {
            self.servers.push_str(&format!(" ASSETS_ENDPOINT={s3}"));
        }
        if let Some(dns) = dns {
            self.servers.push_str(&format!(" LAB_NAMESERVER={dns}"));
        }
        self.journey_only = s3.is_none() || dns.is_none();
        self
    }

    /// The shipped login journey, once, against the lab, with the demo password.
    pub(super) fn run_line(&self) -> String {
        format!(
            "BASE_URL={}{} LOGIN_PASSWORD=\"$(cat {})\" {} run {}{}",
            self.lab,
            self.servers,
            self.password,
            self.exe,
            self.journey,
            if self.journey_only {
                " --only journeys"
            } else {
                ""
            }
        )
    }

    /// `repro` of one stored run; `id` is a number or the placeholder `RUN_ID`.
    pub(super) fn repro_line(&self, id: &str) -> String {
        format!("{} repro {id} --data-dir {}", self.exe, self.data_dir)
    }

    /// The block printed under the board's address.
    pub(super) fn block(&self, board: &str, cwd: &Path) -> Vec<String> {
        vec![
            format!("try it (from {}):", cwd.display()),
            "  run the shipped login journey once against the lab (exit 0 = it passed):".into(),
            format!("    {}", self.run_line()),
            format!(
                "  reproduce a failed run; its RUN_ID is on its page on the board ({board}runs/RUN_ID),"
            ),
            format!(
                "  in GET {board}api/v1/runs (field id), and in the line printed when it fails:"
            ),
            format!("    {}", self.repro_line("RUN_ID")),
        ]
    }
}

/// `path` as the user would type it in `cwd`: relative below `cwd`, else as given.
fn seen_from(path: &Path, cwd: &Path) -> PathBuf {
    match path.strip_prefix(cwd) {
        Ok(rel) if path.is_absolute() && !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => path.to_path_buf(),
    }
}

/// This binary as a command word: `journeyprobe` when `PATH` finds this very file under that
/// name (`scripts/install`, `cargo install --path .`), else its path (seen from `cwd`).
fn exe_word(exe: &Path, cwd: &Path, path_var: Option<&OsStr>) -> String {
    let me = exe.canonicalize().unwrap_or_else(|_| exe.to_path_buf());
    let on_path = path_var
        .map(|p| std::env::split_paths(p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("journeyprobe"))
        .find(|candidate| candidate.is_file());
    if on_path.and_then(|c| c.canonicalize().ok()).as_deref() == Some(me.as_path()) {
        return "journeyprobe".into();
    }
    let shown = seen_from(
        &me,
        &cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf()),
    );
    // A bare name would be looked up on PATH, where this binary is not.
    if shown.components().count() == 1 {
        return shell_word(&Path::new(".").join(shown));
    }
    shell_word(&shown)
}

/// A path as one shell word: unchanged when it holds only characters no shell treats
/// specially, else single-quoted.
fn shell_word(path: &Path) -> String {
    let s = path.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_as_typed_from_the_working_directory_and_quoted_when_needed() {
        let cwd = Path::new("/home/ann/journeyprobe");
        assert_eq!(
            seen_from(Path::new("/home/ann/journeyprobe/journeys/login.yaml"), cwd),
            Path::new("journeys/login.yaml")
        );
        assert_eq!(
            seen_from(Path::new("/tmp/demo"), cwd),
            Path::new("/tmp/demo")
        );
        assert_eq!(
            seen_from(Path::new("journeyprobe-demo"), cwd),
            Path::new("journeyprobe-demo")
        );
        assert_eq!(shell_word(Path::new("a/b-c_d.yaml")), "a/b-c_d.yaml");
        assert_eq!(shell_word(Path::new("/tmp/my demo")), "'/tmp/my demo'");
        assert_eq!(shell_word(Path::new("it's")), r"'it'\''s'");
        assert_eq!(shell_word(Path::new("$(x)")), "'$(x)'");
    }

    #[test]
    fn the_binary_is_named_journeyprobe_only_when_path_finds_this_very_file() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        let other = dir.path().join("other");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        let exe = bin.join("journeyprobe");
        std::fs::write(&exe, "").unwrap();
        std::fs::write(other.join("journeyprobe"), "").unwrap();
        let cwd = dir.path();
        let path = |dirs: &[&Path]| std::env::join_paths(dirs).unwrap();

        assert_eq!(
            exe_word(&exe, Path::new("/"), Some(&path(&[&bin]))),
            "journeyprobe"
        );
        // Another journeyprobe first on PATH is not this one: name this one by its path.
        assert_eq!(
            exe_word(&exe, cwd, Some(&path(&[&other, &bin]))),
            "bin/journeyprobe"
        );
        assert_eq!(exe_word(&exe, cwd, None), "bin/journeyprobe");
        assert_eq!(
            exe_word(&exe, &bin, Some(&path(&[&other]))),
            "./journeyprobe"
        );
        let elsewhere = exe_word(&exe, Path::new("/nonexistent"), None);
        assert!(elsewhere.ends_with("/bin/journeyprobe") && elsewhere.starts_with('/'));
    }

    #[test]
    fn the_run_and_repro_lines_carry_the_labs_port_the_password_file_and_the_data_dir() {
        let t = TryIt {
            exe: "journeyprobe".into(),
            lab: "http://127.0.0.1:41234".into(),
            journey: "journeys/login.yaml".into(),
            password: "journeyprobe-demo/probes/password.secret".into(),
            data_dir: "journeyprobe-demo".into(),
            servers: String::new(),
            journey_only: false,
        };
        assert_eq!(
            t.run_line(),
            "BASE_URL=http://127.0.0.1:41234 \
             LOGIN_PASSWORD=\"$(cat journeyprobe-demo/probes/password.secret)\" \
             journeyprobe run journeys/login.yaml"
        );
        assert_eq!(
            t.repro_line("42"),
            "journeyprobe repro 42 --data-dir journeyprobe-demo"
        );
        let block = t.block("http://127.0.0.1:9464/", Path::new("/w"));
        assert!(
            block.contains(&format!("    {}", t.run_line())),
            "{block:?}"
        );
        assert!(block.contains(&format!("    {}", t.repro_line("RUN_ID"))));
        assert!(
            block
                .iter()
                .any(|l| l.contains("http://127.0.0.1:9464/runs/RUN_ID"))
        );
    }

    #[test]
    fn the_run_line_points_the_login_files_checks_at_the_labs_servers() {
        let t = || TryIt {
            exe: "journeyprobe".into(),
            lab: "http://127.0.0.1:41234".into(),
            journey: "journeys/login.yaml".into(),
            password: "p".into(),
            data_dir: "d".into(),
            servers: String::new(),
            journey_only: false,
        };
        let dns: SocketAddr = "127.0.0.1:5454".parse().unwrap();
        let both = t().with_servers(Some("http://127.0.0.1:4321"), Some(dns));
        assert_eq!(
            both.run_line(),
            "BASE_URL=http://127.0.0.1:41234 ASSETS_ENDPOINT=http://127.0.0.1:4321 \
             LAB_NAMESERVER=127.0.0.1:5454 LOGIN_PASSWORD=\"$(cat p)\" journeyprobe run journeys/login.yaml"
        );
        // Without its DNS server, the journey alone: no check of a server that is not there.
        let no_dns = t().with_servers(Some("http://127.0.0.1:4321"), None);
        assert!(
            no_dns
                .run_line()
                .ends_with("run journeys/login.yaml --only journeys"),
            "{}",
            no_dns.run_line()
        );
    }
}

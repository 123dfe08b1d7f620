//! `journeyprobe validate` end to end, through the built binary.
//!
//! Every `tests/fixtures/invalid/*.yaml` file is a small journey with a deliberate mistake
//! and carries what validate must say about it in header comments:
//!
//! ```text
//! # expect: LINE:COLUMN: KEY: MESSAGE-SUBSTRING
//! # expect: -: MESSAGE-SUBSTRING
//! ```
//!
//! The first form needs an output line starting with `<path>:LINE:COLUMN: ` that contains
//! `KEY: MESSAGE-SUBSTRING`; the second (a problem with the file as a whole) needs a line
//! starting with `<path>: ` that contains `MESSAGE-SUBSTRING`. A `# args: ARGS` line
//! validates the fixture with those options too (`--strict`, for what only it refuses). Fixtures are validated from
//! inside their folder, so `<path>` is the file name and messages that quote paths (the
//! `${file:…}` and duplicate-name ones) do not depend on where the tests run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_journeyprobe");

/// Referenced by `unset_env_var.yaml`; must never be set while the fixtures are validated.
const UNSET_VAR: &str = "JP_TEST_UNSET_VARIABLE_XYZ";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures_dir() -> PathBuf {
    manifest_dir().join("tests/fixtures/invalid")
}

/// `journeyprobe validate ARGS…` run in `dir`, with the unset variable really unset.
fn validate_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .arg("validate")
        .args(args)
        .env_remove(UNSET_VAR)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// One `# expect:` line of a fixture.
#[derive(Debug)]
struct Expectation {
    /// The line as written after `# expect: `, for reports.
    raw: String,
    /// What the output line must start with: `<path>:LINE:COLUMN: ` or `<path>: `.
    prefix: String,
    /// What the rest of the output line must contain.
    needle: String,
}

/// The `# expect:` lines of a fixture. A malformed one is an `Err` describing it.
fn expectations(display_path: &str, text: &str) -> Vec<Result<Expectation, String>> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect:"))
        .map(|raw| parse_expectation(display_path, raw.trim()))
        .collect()
}

fn parse_expectation(display_path: &str, raw: &str) -> Result<Expectation, String> {
    if let Some(needle) = raw.strip_prefix("-: ") {
        return Ok(Expectation {
            raw: raw.to_string(),
            prefix: format!("{display_path}: "),
            needle: needle.to_string(),
        });
    }
    let malformed = || {
        format!("malformed expectation '{raw}': write 'LINE:COLUMN: KEY: MESSAGE' or '-: MESSAGE'")
    };
    let mut parts = raw.splitn(3, ':');
    let (Some(line), Some(column), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed());
    };
    let number = |s: &str| s.parse::<usize>().ok().filter(|n| *n > 0);
    let (Some(line), Some(column), Some(needle)) =
        (number(line), number(column), rest.strip_prefix(' '))
    else {
        return Err(malformed());
    };
    if needle.trim().is_empty() {
        return Err(malformed());
    }
    Ok(Expectation {
        raw: raw.to_string(),
        prefix: format!("{display_path}:{line}:{column}: "),
        needle: needle.to_string(),
    })
}

/// The options of a fixture's `# args:` line, if any.
fn fixture_args(text: &str) -> Vec<&str> {
    text.lines()
        .find_map(|l| l.strip_prefix("# args:"))
        .map(|a| a.split_whitespace().collect())
        .unwrap_or_default()
}

fn is_met(e: &Expectation, output: &str) -> bool {
    output.lines().any(|l| {
        l.strip_prefix(&e.prefix)
            .is_some_and(|rest| rest.contains(&e.needle))
    })
}

/// Everything wrong with one validate run against the expectations of `fixtures`
/// (`(path as passed or reported, file text)`), as report lines; empty when all is well.
fn check_run(output: &Output, fixtures: &[(String, String)]) -> Vec<String> {
    let out = stdout(output);
    let err = stderr(output);
    let mut problems = Vec::new();
    if output.status.code() != Some(2) {
        problems.push(format!("exit status {} (expected 2)", output.status));
    }
    if err.contains("panicked") {
        problems.push("the validator panicked".to_string());
    }
    for (path, text) in fixtures {
        let expected = expectations(path, text);
        if expected.is_empty() {
            problems.push(format!("{path}: no '# expect:' line in the fixture"));
        }
        for e in expected {
            match e {
                Ok(e) if is_met(&e, &out) => {}
                Ok(e) => problems.push(format!("{path}: missing  # expect: {}", e.raw)),
                Err(msg) => problems.push(format!("{path}: {msg}")),
            }
        }
    }
    problems
}

/// `title`, the problems, and what validate actually printed.
fn report_entry(report: &mut String, title: &str, problems: &[String], output: &Output) {
    let _ = writeln!(report, "── {title}");
    for p in problems {
        let _ = writeln!(report, "   {p}");
    }
    let _ = writeln!(report, "   actual stdout:");
    for l in stdout(output).lines() {
        let _ = writeln!(report, "     | {l}");
    }
    let err = stderr(output);
    if !err.trim().is_empty() {
        let _ = writeln!(report, "   actual stderr:");
        for l in err.lines() {
            let _ = writeln!(report, "     | {l}");
        }
    }
}

fn read_lossy(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `*.yaml` files directly in `dir`, sorted by name.
fn yaml_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            p.file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_invalid_fixture_produces_its_expected_messages() {
    let dir = fixtures_dir();
    let names = yaml_files(&dir);
    assert!(
        names.len() >= 25,
        "expected at least 25 fixtures in {}, found {}",
        dir.display(),
        names.len()
    );
    let mut report = String::new();
    let mut failed = 0;
    for name in &names {
        let text = read_lossy(&dir.join(name));
        let mut args = fixture_args(&text);
        args.push(name);
        let output = validate_in(&dir, &args);
        let problems = check_run(&output, &[(name.clone(), text)]);
        if !problems.is_empty() {
            failed += 1;
            report_entry(&mut report, name, &problems, &output);
        }
    }
    assert!(
        failed == 0,
        "{failed} of {} invalid fixtures did not produce what they expect \
         (fixtures are in {}):\n{report}",
        names.len(),
        dir.display()
    );
}

#[test]
fn duplicate_journey_names_across_files_are_reported() {
    let dir = fixtures_dir();
    let sub = dir.join("duplicate_names");
    let names = yaml_files(&sub);
    assert!(
        names.len() >= 2,
        "expected two journeys in {}",
        sub.display()
    );
    let mut report = String::new();

    // Each journey is valid on its own: only the shared name is wrong.
    for name in &names {
        let output = validate_in(&sub, &[name]);
        if output.status.code() != Some(0) {
            let problem = format!("on its own: exit status {} (expected 0)", output.status);
            report_entry(&mut report, name, &[problem], &output);
        }
    }

    // Together, as one folder path.
    let fixtures: Vec<(String, String)> = names
        .iter()
        .map(|n| (format!("duplicate_names/{n}"), read_lossy(&sub.join(n))))
        .collect();
    let with_expectations: Vec<(String, String)> = fixtures
        .iter()
        .filter(|(_, text)| text.contains("# expect:"))
        .cloned()
        .collect();
    if with_expectations.is_empty() {
        report.push_str("── no '# expect:' line in any duplicate_names fixture\n");
    }
    let output = validate_in(&dir, &["duplicate_names"]);
    let mut problems = check_run(&output, &with_expectations);
    // The first file to use a name is not at fault.
    for (path, text) in &fixtures {
        let reported = stdout(&output)
            .lines()
            .any(|l| l.starts_with(&format!("{path}:")));
        if !text.contains("# expect:") && reported {
            problems.push(format!("{path}: reported, but it has no expectations"));
        }
    }
    if !problems.is_empty() {
        report_entry(&mut report, "validate duplicate_names", &problems, &output);
    }
    assert!(report.is_empty(), "duplicate-name fixtures:\n{report}");
}

#[test]
fn example_journeys_are_valid() {
    let output = Command::new(BIN)
        .current_dir(manifest_dir())
        .args(["validate", "journeys"])
        .env("LOGIN_PASSWORD", "not-a-real-password")
        .env_remove("BASE_URL")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
    assert_eq!(
        output.status.code(),
        Some(0),
        "validate journeys/ failed:\n{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("all valid"),
        "no 'all valid' summary:\n{}",
        stdout(&output)
    );
}

/// `journeyprobe validate ARGS…` in the checkout, without LOGIN_PASSWORD.
fn validate_without_secrets(args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(manifest_dir())
        .arg("validate")
        .args(args)
        .env_remove("LOGIN_PASSWORD")
        .env_remove("BASE_URL")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

const LOGIN_SECRET: &str = "journeys/login.yaml:14:13: secrets.password: environment variable \
                            LOGIN_PASSWORD is not set";

#[test]
fn validate_passes_with_secrets_unset_and_names_them_in_a_note() {
    let output = validate_without_secrets(&["journeys"]);
    let (out, err) = (stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("all valid"), "{out}");
    let note = format!("note: {LOGIN_SECRET}");
    assert!(
        err.lines().any(|l| l.starts_with(&note)),
        "no note naming the unresolved secret:\n{err}"
    );
    assert!(err.contains("validate --strict"), "{err}");
    assert!(
        !out.contains("LOGIN_PASSWORD"),
        "a note is not a problem: {out}"
    );
}

#[test]
fn validate_strict_fails_on_an_unset_secret_naming_the_variable_and_its_line() {
    let output = validate_without_secrets(&["--strict", "journeys"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{out}{}", stderr(&output));
    assert!(
        out.lines().any(|l| l.starts_with(LOGIN_SECRET)),
        "no problem naming LOGIN_PASSWORD at its line:\n{out}"
    );
    let with_it = Command::new(BIN)
        .current_dir(manifest_dir())
        .args(["validate", "--strict", "journeys"])
        .env("LOGIN_PASSWORD", "not-a-real-password")
        .output()
        .unwrap();
    assert_eq!(with_it.status.code(), Some(0), "{}", stdout(&with_it));
}

#[test]
fn a_real_problem_beside_an_unset_secret_fails_and_the_secret_stays_a_note() {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        tmp.path().join("j.yaml"),
        "name: j\nsecrets:\n  pw: ${env:JP_TEST_UNSET_VARIABLE_XYZ}\nsteps:\n  - fill: { selector: \"#p\", value: \"${pw}\" }\n  - clik: x\n",
    )
    .unwrap();
    let output = validate_in(tmp.path(), &["j.yaml"]);
    let (out, err) = (stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(2), "{out}{err}");
    assert!(
        out.contains("j.yaml:6:5: steps[2]: unknown step 'clik'"),
        "{out}"
    );
    assert!(out.contains("1 problem in 1 file(s)"), "{out}");
    assert!(
        err.contains("note: j.yaml:3:7: secrets.pw: environment variable JP_TEST_UNSET_VARIABLE_XYZ is not set"),
        "{err}"
    );
}

#[test]
fn empty_and_blank_files_are_reported_as_empty() {
    // An empty file cannot carry an `# expect:` comment, so it is not a fixture.
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(tmp.path().join("empty.yaml"), "").expect("write");
    std::fs::write(tmp.path().join("blank.yaml"), "  \n\n\t\n").expect("write");
    for name in ["empty.yaml", "blank.yaml"] {
        let output = validate_in(tmp.path(), &[name]);
        let out = stdout(&output);
        assert_eq!(output.status.code(), Some(2), "{name}:\n{out}");
        let want = format!("{name}: the file is empty");
        assert!(
            out.lines().any(|l| l.starts_with(&want)),
            "{name}: expected a line starting with '{want}', got:\n{out}"
        );
    }
}

#[test]
fn validate_never_panics_on_garbage() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    binary.splice(0..0, *b"name: \xff\xfe\x00");
    let nested_block: String = (0..2000)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("binary.yaml", binary),
        ("open_brackets.yaml", "[".repeat(2000).into_bytes()),
        (
            "balanced_brackets.yaml",
            format!("{}{}", "[".repeat(2000), "]".repeat(2000)).into_bytes(),
        ),
        (
            "nested_flow_mappings.yaml",
            format!("{}1{}", "{a: ".repeat(2000), "}".repeat(2000)).into_bytes(),
        ),
        ("nested_block_mappings.yaml", nested_block.into_bytes()),
        (
            "nested_lists.yaml",
            format!("{}x\n", "- ".repeat(2000)).into_bytes(),
        ),
        ("one_mb_line.yaml", "x".repeat(1 << 20).into_bytes()),
        (
            "one_mb_step.yaml",
            format!(
                "name: big\nsteps:\n  - goto: \"http://x/${{{}\"\n",
                "a".repeat(1 << 20)
            )
            .into_bytes(),
        ),
        ("only_dashes.yaml", b"---\n".to_vec()),
        ("tilde.yaml", b"~\n".to_vec()),
        ("number.yaml", b"42\n".to_vec()),
    ];
    let mut report = String::new();
    for (name, bytes) in &inputs {
        std::fs::write(tmp.path().join(name), bytes).expect("write");
        let output = validate_in(tmp.path(), &[name]);
        let mut problems = Vec::new();
        if output.status.code() != Some(2) {
            problems.push(format!("exit status {} (expected 2)", output.status));
        }
        if stderr(&output).contains("panicked") {
            problems.push("the validator panicked".to_string());
        }
        if !stdout(&output).lines().any(|l| l.starts_with(name)) {
            problems.push(format!("no problem reported against {name}"));
        }
        if !problems.is_empty() {
            // Keep the report readable when the 1 MB inputs are echoed back.
            let mut short = output.clone();
            short.stdout.truncate(4000);
            short.stderr.truncate(4000);
            report_entry(&mut report, name, &problems, &short);
        }
    }
    assert!(report.is_empty(), "hostile inputs:\n{report}");
}

#[test]
fn a_missing_path_is_named_and_fails() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let missing = tmp.path().join("no-such-journey.yaml");
    let missing_str = missing.to_string_lossy().into_owned();
    let output = validate_in(tmp.path(), &[&missing_str]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "stdout:\n{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("{missing_str}: "))),
        "expected a line naming {missing_str}, got:\n{out}"
    );
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

#[test]
fn expectation_lines_are_parsed_strictly() {
    let e = parse_expectation("f.yaml", "4:7: steps[2]: unknown step 'clik'").expect("valid");
    assert_eq!(e.prefix, "f.yaml:4:7: ");
    assert_eq!(e.needle, "steps[2]: unknown step 'clik'");
    let whole = parse_expectation("f.yaml", "-: is not UTF-8 text").expect("valid");
    assert_eq!(whole.prefix, "f.yaml: ");
    assert!(is_met(
        &e,
        "f.yaml:4:7: steps[2]: unknown step 'clik' — did you mean 'click'?"
    ));
    assert!(!is_met(&e, "f.yaml:4:8: steps[2]: unknown step 'clik'"));
    assert!(!is_met(&whole, "f.yaml:1:1: is not UTF-8 text"));
    for bad in [
        "4: steps",
        "x:7: steps",
        "0:1: k: m",
        "4:7:steps",
        "4:7: ",
        "-:x",
    ] {
        assert!(
            parse_expectation("f.yaml", bad).is_err(),
            "accepted '{bad}'"
        );
    }
}

#[test]
fn a_reader_that_stops_early_does_not_make_validate_panic() {
    use std::io::{BufRead, BufReader};
    // More output than a pipe holds (64 KiB), so writing goes on after the reader is gone.
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3000 {
        let text = format!("name: j{i}\nsteps:\n  - clik: \"#x\"\n");
        std::fs::write(dir.path().join(format!("j{i}.yaml")), text).unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_journeyprobe"))
        .args(["validate", "."])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Like `| head -1`: read one line, then close the pipe.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!first.is_empty());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn a_journey_named_alone_is_told_which_file_beside_it_holds_the_checks_it_stands_on() {
    let output = validate_without_secrets(&["journeys/search.yaml"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{out}");
    assert!(
        out.contains(
            "journeys/search.yaml:8:14: depends_on: no check named 'login_page' in the probe files \
             loaded — journeys/login.yaml defines it: load that file too, or the folder (journeys/)"
        ),
        "{out}"
    );
    let both = validate_without_secrets(&["journeys/search.yaml", "journeys/login.yaml"]);
    assert_eq!(both.status.code(), Some(0), "{}", stdout(&both));
}

//! `journeyprobe rules` end to end: the built binary on the probe files in
//! `tests/fixtures/rules/probes/`, and the real `promtool` (Prometheus's own rule checker and
//! rule unit-test runner) on what it prints.
//!
//! `tests/fixtures/rules/alerts_test.yml` is a `promtool test rules` file: input series shaped
//! like the metrics `journeyprobe serve` exports, and which alerts must fire (labels and
//! rendered annotations) or stay silent at given times. The tests copy it next to freshly
//! generated rules, so it always runs against what the binary prints now.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use marked_yaml::Node;

const BIN: &str = env!("CARGO_BIN_EXE_journeyprobe");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules")
}

fn probes() -> String {
    fixtures().join("probes").display().to_string()
}

/// `promtool` from PATH. Missing is a failure, not a skip: these tests are the proof that the
/// rules load in Prometheus and alert as documented.
fn promtool() -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("promtool"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "promtool is not on PATH: run scripts/ensure-deps (it installs Debian's \
                 `prometheus` package, which provides promtool)"
            )
        })
}

fn journeyprobe(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("rules")
        .args(args)
        .output()
        .expect("run journeyprobe")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The generated rules, checked to have exited 0.
fn rules(args: &[&str]) -> String {
    let out = journeyprobe(args);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
    stdout(&out)
}

fn run_promtool(dir: &Path, args: &[&str]) -> Output {
    Command::new(promtool())
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run promtool")
}

fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
}

/// A temp folder holding the plain rules as `rules.yaml` and, with `mutation`, the
/// promtool test file with its `# mutate: NAME` line rewritten.
fn promtool_dir(mutation: Option<(&str, &str)>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules_file = dir.path().join("rules.yaml");
    rules(&[&probes(), "-o", rules_file.to_str().unwrap()]);
    let mut test = std::fs::read_to_string(fixtures().join("alerts_test.yml")).unwrap();
    if let Some((name, replacement)) = mutation {
        let marker = format!(" # mutate: {name}");
        let line = test
            .lines()
            .find(|l| l.ends_with(&marker))
            .unwrap_or_else(|| panic!("no line ends with '{marker}'"))
            .to_string();
        // Keep the indentation and any `- ` before the key; replace the rest.
        let content = line.trim_start();
        let content = content.strip_prefix("- ").unwrap_or(content);
        test = test.replace(&line, &line.replace(content, replacement));
    }
    std::fs::write(dir.path().join("alerts_test.yml"), test).unwrap();
    dir
}

/// The document without the leading comment lines.
fn body(text: &str) -> String {
    text.lines()
        .skip_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn scalar_at<'a>(node: &'a Node, path: &[&str]) -> &'a str {
    let mut n = node;
    for key in path {
        n = n
            .as_mapping()
            .and_then(|m| m.get_node(key))
            .unwrap_or_else(|| panic!("no {path:?}"));
    }
    n.as_scalar().expect("a scalar").as_str()
}

#[test]
fn plain_rules_pass_promtool_check() {
    let dir = promtool_dir(None);
    let out = run_promtool(dir.path(), &["check", "rules", "rules.yaml"]);
    assert_success(&out, "promtool check rules");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("SUCCESS"), "{printed}");

    // The shape, read back with a YAML parser: three groups, band alerts only where a band
    // can be left (login_success has max 1.0, so it gets no above-band alert).
    let text = std::fs::read_to_string(dir.path().join("rules.yaml")).unwrap();
    let doc = marked_yaml::parse_yaml(0, &text).expect("rules parse as YAML");
    let groups = doc.as_mapping().unwrap().get_sequence("groups").unwrap();
    let names: Vec<&str> = groups.iter().map(|g| scalar_at(g, &["name"])).collect();
    assert_eq!(
        names,
        [
            "journeyprobe-bpm",
            "journeyprobe-burn-rate",
            "journeyprobe-prober"
        ]
    );
    let above: Vec<&str> = groups[0]
        .as_mapping()
        .unwrap()
        .get_sequence("rules")
        .unwrap()
        .iter()
        .filter(|r| {
            r.as_mapping()
                .unwrap()
                .get_scalar("alert")
                .map(|a| a.as_str())
                == Some("BpmAboveBand")
        })
        .map(|r| scalar_at(r, &["labels", "bpm"]))
        .collect();
    assert_eq!(above, ["checkout_funnel"]);
}

#[test]
fn k8s_output_is_a_prometheus_rule_around_the_same_groups() {
    let plain = rules(&[&probes()]);
    let k8s = rules(&[
        &probes(),
        "--format",
        "k8s",
        "--name",
        "checkout-rules",
        "--label",
        "release=prometheus",
    ]);
    let doc = marked_yaml::parse_yaml(0, &k8s).expect("k8s output parses as YAML");
    assert_eq!(scalar_at(&doc, &["apiVersion"]), "monitoring.coreos.com/v1");
    assert_eq!(scalar_at(&doc, &["kind"]), "PrometheusRule");
    assert_eq!(scalar_at(&doc, &["metadata", "name"]), "checkout-rules");
    assert_eq!(
        scalar_at(&doc, &["metadata", "labels", "release"]),
        "prometheus"
    );

    // spec, re-indented, is exactly the plain rule file, and promtool accepts it.
    let body = body(&k8s);
    let (_, spec) = body.split_once("\nspec:\n").expect("a spec: key");
    let spec: String = spec
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
        .collect();
    assert_eq!(spec, self::body(&plain));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spec.yaml"), &spec).unwrap();
    let out = run_promtool(dir.path(), &["check", "rules", "spec.yaml"]);
    assert_success(&out, "promtool check rules on the PrometheusRule's spec");
}

#[test]
fn alerts_fire_when_they_should_and_stay_silent_otherwise() {
    let dir = promtool_dir(None);
    let out = run_promtool(dir.path(), &["test", "rules", "alerts_test.yml"]);
    assert_success(&out, "promtool test rules");
}

#[test]
fn a_wrong_expectation_makes_promtool_fail() {
    let mutations = [
        // Claim that prober errors fire search's BPM alert.
        (
            "errors_fire_bpm",
            "exp_alerts: [{exp_labels: {severity: page, bpm: search, window: 5m, job: journeyprobe, team: discovery}}]",
            "BpmBelowBand",
        ),
        // Expect the page 20 minutes before the burn rate allows it.
        ("burn_early", "eval_time: 160m", "JourneyBudgetBurn"),
    ];
    for (name, replacement, alert) in mutations {
        let dir = promtool_dir(Some((name, replacement)));
        let out = run_promtool(dir.path(), &["test", "rules", "alerts_test.yml"]);
        assert!(!out.status.success(), "mutation {name} went unnoticed");
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        // A failed expectation (promtool prints `exp:` and `got:`), not a broken file.
        let expectation_failed = said.contains(alert) && said.contains("exp:");
        assert!(expectation_failed, "mutation {name}: promtool said\n{said}");
    }
}

#[test]
fn stdout_and_output_file_hold_the_same_rules() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.yaml");
    let out = journeyprobe(&[&probes(), "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), rules(&[&probes()]));
}

#[test]
fn invalid_probe_files_exit_2_with_problems_on_stderr_and_no_rules() {
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid/bpms.yaml");
    let out = journeyprobe(&[bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("bpms.yaml:10:17: bpms[1].expected: min 0.9 is above max 0.8"),
        "{err}"
    );
    assert!(err.contains("no rules written"), "{err}");
}

#[test]
fn name_and_label_need_format_k8s() {
    let out = journeyprobe(&[&probes(), "--label", "release=prometheus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--format k8s"), "{}", stderr(&out));
    let out = journeyprobe(&[&probes(), "--format", "k8s", "--label", "no-equals"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn band_alerts_read_the_shortest_window_that_holds_three_runs() {
    let slow = fixtures().join("slow_probe");
    let text = rules(&[slow.to_str().unwrap()]);
    let doc = marked_yaml::parse_yaml(0, &text).expect("rules parse as YAML");
    let groups = doc.as_mapping().unwrap().get_sequence("groups").unwrap();
    let rules = groups[0]
        .as_mapping()
        .unwrap()
        .get_sequence("rules")
        .unwrap();
    let alert = rules
        .iter()
        .find(|r| r.as_mapping().unwrap().get_node("alert").is_some())
        .expect("a band alert");
    // Every 10m: the 5m window holds one run at most, the 30m window three.
    assert_eq!(
        scalar_at(alert, &["expr"]),
        r#"journeyprobe:bpm_ratio{bpm="export_health",window="30m"} < 0.5"#
    );
    assert_eq!(scalar_at(alert, &["for"]), "30m");
}

//! `journeyprobe list`: every probe with its schedule, BPMs, prerequisites and links.

mod common;

use common::Scratch;

#[test]
fn list_shows_schedules_bpms_prerequisites_and_incident_links() {
    let s = Scratch::new();
    let file = s.path().join("probes.yaml");
    std::fs::write(
        &file,
        "name: login\nevery: 2m\nretries: 1\nincident: [INC-7]\nrunbook: https://wiki.example/login\n\
         depends_on: [route]\nsteps:\n  - goto: http://127.0.0.1:9/login\n\
         checks:\n  - name: route\n    every: 10s\n    http: { url: \"http://127.0.0.1:9/login\" }\n\
         bpms:\n  - name: signin\n    probes: [login, route]\n    windows: [1h]\n    expected: { min: 0.6, max: 0.8 }\n",
    )
    .unwrap();
    let out = s.run(s.command("http://127.0.0.1:9", &["list", file.to_str().unwrap()]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", common::show(&out));
    let login = text
        .lines()
        .find(|l| l.starts_with("login "))
        .expect("a login row");
    for part in [
        "journey",
        "2m / 30s",
        " 1 ",
        "signin",
        "route",
        "INC-7 https://wiki.example/login",
    ] {
        assert!(login.contains(part), "{part:?} missing from: {login}");
    }
    let route = text
        .lines()
        .find(|l| l.starts_with("route "))
        .expect("a route row");
    assert!(
        route.contains("http") && route.contains("10s / 5s") && route.contains("signin"),
        "{route}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("signin") && l.contains("0.6 – 0.8") && l.contains("1h")),
        "{text}"
    );

    let out = s.run(s.command(
        "http://127.0.0.1:9",
        &["list", "--format", "json", file.to_str().unwrap()],
    ));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["probes"][0]["depends_on"], serde_json::json!(["route"]));
    assert_eq!(v["probes"][1]["every_seconds"], 10.0);
    assert_eq!(v["bpms"][0]["expected"]["max"], 0.8);
}

/// `list` and `rules` never use a secret's value, so they run where the secrets are not (a
/// CI job generating rules); so does `validate`, noting the secret, and `validate --strict`
/// insists, as `serve` would. Other mistakes in a secret are reported all the same.
#[test]
fn list_and_rules_run_without_the_secrets_and_validate_strict_still_wants_them() {
    let s = Scratch::new();
    let file = s.path().join("login.yaml");
    let journey = |password: &str| {
        format!(
            "name: login\nsecrets: {{ password: \"{password}\", link: \"${{env:JP_TEST_NEVER_SET_LINK}}\" }}\n\
             steps:\n\
             \x20 - goto: ${{link}}\n\
             \x20 - fill: {{ selector: \"#password\", value: \"${{password}}\" }}\n\
             bpms:\n  - name: signin\n    probes: [login]\n    expected: {{ min: 0.9 }}\n"
        )
    };
    std::fs::write(&file, journey("${env:JP_TEST_NEVER_SET_PASSWORD}")).unwrap();
    let path = file.to_str().unwrap();
    for args in [vec!["list", path], vec!["rules", path]] {
        let mut cmd = s.command("http://127.0.0.1:9", &args);
        cmd.env_remove("JP_TEST_NEVER_SET_PASSWORD")
            .env_remove("JP_TEST_NEVER_SET_LINK");
        let out = s.run(cmd);
        assert!(out.status.success(), "{args:?}: {}", common::show(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("signin"), "{args:?}: {text}");
        assert!(!text.contains("unset-secret"), "{args:?}: {text}");
    }
    let missing = "secrets.password: environment variable JP_TEST_NEVER_SET_PASSWORD is not set";
    for (strict, code) in [(false, 0), (true, 2)] {
        let mut args = vec!["validate", path];
        if strict {
            args.insert(1, "--strict");
        }
        let mut cmd = s.command("http://127.0.0.1:9", &args);
        cmd.env_remove("JP_TEST_NEVER_SET_PASSWORD")
            .env_remove("JP_TEST_NEVER_SET_LINK");
        let out = s.run(cmd);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            common::show(&out)
        );
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        let shown = if strict { stdout } else { stderr };
        assert!(shown.contains(missing), "{args:?}: {}", common::show(&out));
    }

    // A malformed reference, or a typo next to the missing variable, is a mistake in the
    // file, not a missing secret.
    for (password, problem) in [
        ("${env:not a name}", "malformed reference"),
        (
            "${env:JP_TEST_NEVER_SET_PASSWORD}${pasword}",
            "unknown reference",
        ),
    ] {
        std::fs::write(&file, journey(password)).unwrap();
        let out = s.run(s.command("http://127.0.0.1:9", &["list", path]));
        assert_eq!(out.status.code(), Some(2), "{}", common::show(&out));
        assert!(
            common::show(&out).contains(problem),
            "{problem}: {}",
            common::show(&out)
        );
    }
}

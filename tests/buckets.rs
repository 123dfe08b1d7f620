//! Acceptance: bucket checks against a real S3-compatible server (moto, started by the
//! test), and the fault lab loading its dashboard bundle from that bucket, so deleting the
//! bucket breaks the login journey and the report names the bucket as the cause.

mod common;

use std::collections::BTreeMap;

use common::s3::S3;
use common::{Lab, Scratch, json_results, show};

fn run(
    s: &Scratch,
    base_url: &str,
    file: &std::path::Path,
    extra: &[&str],
) -> (i32, BTreeMap<String, serde_json::Value>, String) {
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--format",
        "json",
        "--no-artifacts",
    ];
    args.extend_from_slice(extra);
    let mut cmd = s.command(base_url, &args);
    cmd.env("S3_ACCESS_KEY", "AKIDTEST")
        .env("S3_SECRET_KEY", "test-secret-key-canary");
    let out = s.run(cmd);
    let results = json_results(&out)
        .into_iter()
        .map(|r| (r["probe"].as_str().unwrap().to_string(), r))
        .collect();
    (out.status.code().unwrap_or(-1), results, show(&out))
}

fn reason(r: &BTreeMap<String, serde_json::Value>, probe: &str) -> String {
    let v = &r[probe];
    if v["outcome"] == "success" {
        "success".into()
    } else {
        v["reason"].as_str().unwrap_or("?").to_string()
    }
}

#[test]
fn bucket_checks_tell_present_deleted_private_and_missing_apart() {
    let s3 = S3::start();
    s3.create_bucket("assets");
    s3.put("assets", "app.css", b"body { color: #111 }", "text/css");
    s3.put("assets", "empty.txt", b"", "text/plain");
    s3.make_public("assets");
    s3.create_bucket("private-docs");
    s3.put("private-docs", "report.txt", b"quarterly", "text/plain");
    let s = Scratch::new();
    let file = s.path().join("buckets.yaml");
    let ep = s3.endpoint();
    std::fs::write(
        &file,
        format!(
            r#"secrets:
  key_id: "${{env:S3_ACCESS_KEY}}"
  secret: "${{env:S3_SECRET_KEY}}"
checks:
  - name: bucket_present
    bucket: {{ endpoint: "{ep}", bucket: assets }}
  - name: object_present
    bucket: {{ endpoint: "{ep}", bucket: assets, key: app.css, min_size: 5 }}
  - name: object_empty
    bucket: {{ endpoint: "{ep}", bucket: assets, key: empty.txt }}
  - name: object_missing
    bucket: {{ endpoint: "{ep}", bucket: assets, key: gone.css }}
  - name: private_anonymous
    bucket: {{ endpoint: "{ep}", bucket: private-docs, key: report.txt }}
  - name: private_signed
    bucket: {{ endpoint: "{ep}", bucket: private-docs, key: report.txt, credentials: {{ access_key_id: "${{key_id}}", secret_access_key: "${{secret}}" }} }}
  - name: deleted_bucket
    bucket: {{ endpoint: "{ep}", bucket: deleted }}
"#
        ),
    )
    .unwrap();
    s3.create_bucket("deleted");
    s3.delete_bucket("deleted", &[]);
    let (code, r, all) = run(&s, "http://127.0.0.1:1", &file, &[]);
    assert_eq!(code, 1, "{all}");
    assert_eq!(reason(&r, "bucket_present"), "success", "{all}");
    assert_eq!(reason(&r, "object_present"), "success", "{all}");
    assert_eq!(reason(&r, "object_empty"), "success", "{all}");
    assert_eq!(reason(&r, "object_missing"), "object_not_found", "{all}");
    assert_eq!(
        reason(&r, "private_anonymous"),
        "bucket_access_denied",
        "{all}"
    );
    assert_eq!(reason(&r, "private_signed"), "success", "{all}");
    assert_eq!(reason(&r, "deleted_bucket"), "bucket_not_found", "{all}");
    assert!(!all.contains("test-secret-key-canary"), "{all}");
}

#[test]
fn deleting_the_assets_bucket_breaks_login_and_the_report_names_it() {
    let s3 = S3::start();
    let lab = Lab::with_assets_bucket(&s3, false);
    let s = Scratch::new();
    let file = s.path().join("login_spa.yaml");
    std::fs::write(
        &file,
        format!(
            r##"name: login_spa
step_timeout: 5s
depends_on: [assets_bucket]
vars: {{ base: "${{env:BASE_URL}}" }}
secrets: {{ password: "${{env:LOGIN_PASSWORD}}" }}
steps:
  - goto: ${{base}}/login
  - fill: {{ selector: "#username", value: "spa@example.com" }}
  - fill: {{ selector: "#password", value: "${{password}}" }}
  - click: "button[type=submit]"
  - wait_for: {{ url_matches: "/dashboard$" }}
  - assert_text: {{ selector: "#welcome", contains: "Welcome" }}
checks:
  - name: assets_bucket
    bucket: {{ endpoint: "{}", bucket: assets, key: dashboard.js }}
"##,
            s3.endpoint()
        ),
    )
    .unwrap();
    let (code, r, all) = run(&s, &lab.base_url(), &file, &["--only", "journeys"]);
    assert_eq!(
        code, 0,
        "the journey passes while the bucket is there: {all}"
    );
    assert_eq!(reason(&r, "login_spa"), "success");

    s3.delete_bucket("assets", &["dashboard.js"]);
    let (code, r, all) = run(&s, &lab.base_url(), &file, &["--only", "journeys"]);
    assert_eq!(code, 1, "{all}");
    let j = &r["login_spa"];
    assert_eq!(j["reason"], "element_not_found", "{j:#}");
    assert_eq!(j["phase"]["index"], 6, "{j:#}");
    let deps = j["prerequisites"].as_array().expect("prerequisites");
    assert_eq!(deps[0]["check"], "assets_bucket", "{j:#}");
    assert_eq!(deps[0]["reason"], "bucket_not_found", "{j:#}");
}

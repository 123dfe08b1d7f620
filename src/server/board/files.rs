//! Files the board serves: its own static assets, embedded in the binary (no CDN, works on
//! an air-gapped prober), and the artifacts of runs.
//!
//! An artifact is served only when (1) the run's stored result lists it, by file name, and
//! (2) its canonical path (symlinks resolved) lies inside the canonical artifacts folder
//! (`<data_dir>/artifacts`). Anything else is a 404, whatever the request's path says, so
//! neither `..` nor a symlink nor a forged result reaches another file. Captured page HTML
//! is the target's markup: it is served with `Content-Security-Policy: sandbox`, so it renders
//! in an opaque origin with scripts off and cannot act as the board.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// `(name, content type, bytes)` of every embedded asset.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/uplot/uPlot.iife.min.js"),
    ),
    (
        "uPlot.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/uplot/uPlot.min.css"),
    ),
    (
        "board.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/board/board.css"),
    ),
    (
        "board.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/board/board.js"),
    ),
];

/// A short content hash per asset, put in its URL so a new binary is never served a stale
/// cached copy while unchanged assets stay cached.
static HASHES: LazyLock<Vec<String>> = LazyLock::new(|| {
    use sha2::{Digest, Sha256};
    ASSETS
        .iter()
        .map(|(_, _, bytes)| hex::encode(&Sha256::digest(bytes)[..6]))
        .collect()
});

/// The URL of an embedded asset (`board.css` → `/assets/board.css?v=1a2b3c…`).
pub fn asset_url(name: &str) -> String {
    let i = ASSETS
        .iter()
        .position(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("no embedded asset {name}"));
    format!("/assets/{name}?v={}", HASHES[i])
}

pub fn asset(name: &str) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, ctype, bytes)) => (
            [
                (header::CONTENT_TYPE, *ctype),
                (header::CACHE_CONTROL, "public, max-age=86400"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *bytes,
        )
            .into_response(),
        None => not_found("no such asset"),
    }
}

pub fn not_found(why: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("not found: {why}\n"),
    )
        .into_response()
}

/// Why an artifact request is refused (all answered 404: no hint about what exists).
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The run's result does not list a file of that name.
    NotListed,
    /// It does not exist (any more: the size cap removes old run folders).
    Missing,
    /// Its real path is outside the artifacts folder.
    Outside,
}

/// The file to serve for `name` among the run's `listed` artifact paths, if it is inside
/// `root`. Blocking (touches the file system).
pub fn resolve(root: &Path, listed: &[String], name: &str) -> Result<PathBuf, Refusal> {
    let path = listed
        .iter()
        .map(Path::new)
        .find(|p| p.file_name().is_some_and(|f| f == name))
        .ok_or(Refusal::NotListed)?;
    let root = root.canonicalize().map_err(|_| Refusal::Missing)?;
    let real = path.canonicalize().map_err(|_| Refusal::Missing)?;
    if real.starts_with(&root) && real != root && real.is_file() {
        Ok(real)
    } else {
        Err(Refusal::Outside)
    }
}

/// Content type of an artifact, by extension; unknown kinds are downloads.
fn content_type(path: &Path) -> (&'static str, bool) {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "png" => ("image/png", false),
        "jpg" | "jpeg" => ("image/jpeg", false),
        "html" | "htm" => ("text/html; charset=utf-8", false),
        "json" => ("application/json", false),
        "txt" | "log" => ("text/plain; charset=utf-8", false),
        _ => ("application/octet-stream", true),
    }
}

/// Largest artifact served (a page capture can be big, not this big).
const MAX_ARTIFACT_BYTES: u64 = 64 * 1024 * 1024;

/// Serve `name` of a run whose result lists `listed`, from under `root`.
pub async fn artifact(root: PathBuf, listed: Vec<String>, name: String) -> Response {
    let read = tokio::task::spawn_blocking(move || {
        let path = resolve(&root, &listed, &name)?;
        let too_big = std::fs::metadata(&path).map_or(true, |m| m.len() > MAX_ARTIFACT_BYTES);
        if too_big {
            return Err(Refusal::Missing);
        }
        let bytes = std::fs::read(&path).map_err(|_| Refusal::Missing)?;
        Ok((path, bytes))
    })
    .await;
    let (path, bytes) = match read {
        Ok(Ok(found)) => found,
        Ok(Err(_)) | Err(_) => return not_found("no such artifact for this run"),
    };
    let (ctype, download) = content_type(&path);
    let mut r = (
        [
            (header::CONTENT_TYPE, ctype),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "private, max-age=300"),
            // Whatever the file is, it runs no script as the board.
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
            ),
        ],
        bytes,
    )
        .into_response();
    if download {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("artifact");
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_files_inside_the_artifacts_folder_are_served() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("artifacts");
        let run = root.join("login/2026-11-25T061751.296Z");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(run.join("screenshot.png"), b"png").unwrap();
        std::fs::write(dir.path().join("history.sqlite3"), b"db").unwrap();
        let listed = vec![run.join("screenshot.png").display().to_string()];

        assert_eq!(
            resolve(&root, &listed, "screenshot.png"),
            Ok(run.join("screenshot.png").canonicalize().unwrap())
        );
        assert_eq!(
            resolve(&root, &listed, "page.html"),
            Err(Refusal::NotListed)
        );
        assert_eq!(resolve(&root, &listed, ".."), Err(Refusal::NotListed));
        assert_eq!(
            resolve(&root, &listed, "../../history.sqlite3"),
            Err(Refusal::NotListed)
        );

        // A result that lists a file outside (forged, or written by an older layout).
        let outside = [
            dir.path().join("history.sqlite3").display().to_string(),
            format!("{}/../../../history.sqlite3", run.display()),
        ];
        assert_eq!(
            resolve(&root, &outside[..1], "history.sqlite3"),
            Err(Refusal::Outside)
        );
        assert_eq!(
            resolve(&root, &outside[1..], "history.sqlite3"),
            Err(Refusal::Outside)
        );

        // A symlink inside the folder that points out of it.
        std::os::unix::fs::symlink(dir.path().join("history.sqlite3"), run.join("link.png"))
            .unwrap();
        let linked = vec![run.join("link.png").display().to_string()];
        assert_eq!(resolve(&root, &linked, "link.png"), Err(Refusal::Outside));

        // Removed by the size cap since.
        std::fs::remove_file(run.join("screenshot.png")).unwrap();
        assert_eq!(
            resolve(&root, &listed, "screenshot.png"),
            Err(Refusal::Missing)
        );
    }

    #[test]
    fn artifacts_get_their_content_types() {
        assert_eq!(content_type(Path::new("a/screenshot.png")).0, "image/png");
        assert_eq!(
            content_type(Path::new("a/page.html")).0,
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("a/console.json")).0,
            "application/json"
        );
        assert_eq!(
            content_type(Path::new("a/url.txt")).0,
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("a/trace.bin")),
            ("application/octet-stream", true)
        );
        assert!(asset_url("board.js").starts_with("/assets/board.js?v="));
    }
}

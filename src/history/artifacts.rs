//! The artifacts folder's size cap: failed runs leave `<dir>/<probe>/<stamp>/…`; when the
//! whole folder grows past the cap, the oldest run folders go first.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One run's artifact folder.
struct RunDir {
    path: PathBuf,
    modified: SystemTime,
    bytes: u64,
}

/// Remove the oldest run folders under `dir` until what remains is at most `max_bytes`.
/// Returns the folders removed. Folders that cannot be read are left alone.
pub fn enforce_cap(dir: &Path, max_bytes: u64) -> Vec<PathBuf> {
    let mut runs = run_dirs(dir);
    let mut total: u64 = runs.iter().map(|r| r.bytes).sum();
    runs.sort_by_key(|r| r.modified);
    let mut removed = Vec::new();
    for r in runs {
        if total <= max_bytes {
            break;
        }
        if std::fs::remove_dir_all(&r.path).is_ok() {
            total = total.saturating_sub(r.bytes);
            removed.push(r.path);
        }
    }
    removed
}

fn run_dirs(dir: &Path) -> Vec<RunDir> {
    let mut out = Vec::new();
    for probe in children(dir).filter(|p| p.is_dir()) {
        for run in children(&probe).filter(|p| p.is_dir()) {
            let modified = std::fs::metadata(&run)
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let bytes = children(&run)
                .filter_map(|f| std::fs::metadata(f).ok())
                .map(|m| m.len())
                .sum();
            out.push(RunDir {
                path: run,
                modified,
                bytes,
            });
        }
    }
    out
}

fn children(dir: &Path) -> impl Iterator<Item = PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_run_folders_go_first_until_under_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        for (i, name) in ["a/1", "a/2", "b/3"].iter().enumerate() {
            let run = dir.path().join(name);
            std::fs::create_dir_all(&run).unwrap();
            std::fs::write(run.join("page.html"), vec![b'x'; 1000]).unwrap();
            let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000 + i as u64);
            std::fs::File::open(&run).unwrap().set_modified(t).unwrap();
        }
        let removed = enforce_cap(dir.path(), 1500);
        assert_eq!(
            removed,
            vec![dir.path().join("a/1"), dir.path().join("a/2")]
        );
        assert!(dir.path().join("b/3/page.html").exists());
        assert!(enforce_cap(dir.path(), 1500).is_empty());
    }
}

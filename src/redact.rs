//! Secret redaction. Every resolved `secrets:` value is replaced by [`MASK`] in anything that
//! leaves the process: human and JSON output, logs, artifacts. Redaction is by value, so a
//! secret is caught wherever it ends up (an error message, a URL, a page's HTML).

/// What a secret looks like in output.
pub const MASK: &str = "••••";

#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Longest first, so a secret that contains another is masked whole.
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new<I: IntoIterator<Item = String>>(secrets: I) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    /// The secret values, for masking inside the page before a screenshot.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }

    /// Redact inside bytes that may or may not be UTF-8 (page HTML, console logs).
    pub fn redact_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        match std::str::from_utf8(bytes) {
            Ok(s) => self.redact(s).into_bytes(),
            Err(_) => self.redact(&String::from_utf8_lossy(bytes)).into_bytes(),
        }
    }

    /// Merge another journey's secrets (a report that covers several journeys).
    pub fn merged(&self, other: &Redactor) -> Redactor {
        Redactor::new(self.secrets.iter().chain(&other.secrets).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_longest_first() {
        let r = Redactor::new(["abc".to_string(), "abcdef".to_string(), String::new()]);
        assert_eq!(r.redact("x abcdef y abc"), format!("x {MASK} y {MASK}"));
        assert_eq!(r.redact("nothing here"), "nothing here");
    }
}

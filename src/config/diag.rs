//! Diagnostics: one problem in one probe file, with where it is and what to do about it.
//!
//! Validation never stops at the first problem: every check pushes into a [`Diags`]
//! collector so `journeyprobe validate` can show everything wrong with a file at once.

use std::fmt;
use std::path::{Path, PathBuf};

use marked_yaml::Span;

/// A single problem found in a probe file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is about the file as a whole (unreadable, missing).
    pub line: usize,
    /// 1-based; 0 when unknown.
    pub column: usize,
    /// Where in the document: `steps[3].click`, `timeout`, `secrets.password`.
    pub key: String,
    pub message: String,
    /// What to do about it, e.g. "did you mean 'click'?".
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        f.write_str(": ")?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " — {hint}")?;
        }
        Ok(())
    }
}

/// Collects diagnostics for one file.
#[derive(Debug)]
pub struct Diags {
    file: PathBuf,
    pub items: Vec<Diagnostic>,
}

impl Diags {
    pub fn new(file: &Path) -> Self {
        Diags {
            file: file.to_path_buf(),
            items: Vec::new(),
        }
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Record a problem at the start of `span`.
    pub fn at(&mut self, span: &Span, key: &str, message: impl Into<String>) {
        self.push(span, key, message.into(), None);
    }

    /// Record a problem with a hint.
    pub fn hint(&mut self, span: &Span, key: &str, message: impl Into<String>, hint: String) {
        self.push(span, key, message.into(), Some(hint));
    }

    fn push(&mut self, span: &Span, key: &str, message: String, hint: Option<String>) {
        let (line, column) = position(span);
        self.items.push(Diagnostic {
            file: self.file.clone(),
            line,
            column,
            key: key.to_string(),
            message,
            hint,
        });
    }

    /// A problem with the file as a whole (unreadable, not YAML at all).
    pub fn whole_file(&mut self, message: impl Into<String>) {
        self.items.push(Diagnostic {
            file: self.file.clone(),
            line: 0,
            column: 0,
            key: String::new(),
            message: message.into(),
            hint: None,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Where a node starts, as a reader sees it. A block mapping's own span starts at the colon
/// after its first key; its first key is where a reader looks.
pub fn start_of(node: &marked_yaml::Node) -> Span {
    match node {
        marked_yaml::Node::Mapping(m) => mapping_start(m),
        other => *other.span(),
    }
}

pub fn mapping_start(m: &marked_yaml::types::MarkedMappingNode) -> Span {
    m.keys().next().map(|k| *k.span()).unwrap_or(*m.span())
}

/// 1-based line and column of a span's start, (1, 1) when the parser gave none.
pub fn position(span: &Span) -> (usize, usize) {
    span.start()
        .map(|m| (m.line(), m.column()))
        .unwrap_or((1, 1))
}

/// "did you mean 'click'?" when one of `known` is close enough to `word` to be a typo.
pub fn suggest(word: &str, known: &[&str]) -> Option<String> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3) && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| format!("did you mean '{k}'?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let known = ["click", "fill", "goto", "wait_for"];
        assert_eq!(
            suggest("clik", &known).as_deref(),
            Some("did you mean 'click'?")
        );
        assert_eq!(
            suggest("waitfor", &known).as_deref(),
            Some("did you mean 'wait_for'?")
        );
        assert_eq!(suggest("screenshot", &known), None);
    }

    #[test]
    fn display_includes_position_key_and_hint() {
        let d = Diagnostic {
            file: "j.yaml".into(),
            line: 4,
            column: 7,
            key: "steps[2]".into(),
            message: "unknown step 'clik'".into(),
            hint: Some("did you mean 'click'?".into()),
        };
        assert_eq!(
            d.to_string(),
            "j.yaml:4:7: steps[2]: unknown step 'clik' — did you mean 'click'?"
        );
    }
}

//! What kind of probe something is. The text of each kind is the YAML key of a check, the
//! `kind` of a run's result (JSON lines, history, the `kind` metric label) and what the
//! board and the reports show.

crate::closed::closed_set! {
    /// The kind of a dependency check: its YAML key under `checks:`.
    pub enum CheckKind {
        Http => "http",
        Dns => "dns",
        Tls => "tls",
        Bucket => "bucket",
    }
}

/// A journey or a check of some kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    Journey,
    Check(CheckKind),
}

impl ProbeKind {
    /// Every kind: the journey, then each check kind.
    pub fn all() -> impl Iterator<Item = ProbeKind> {
        std::iter::once(ProbeKind::Journey)
            .chain(CheckKind::ALL.iter().map(|k| ProbeKind::Check(*k)))
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Journey => "journey",
            ProbeKind::Check(k) => k.as_str(),
        }
    }

    /// The kind whose text is `text`, if any.
    pub fn parse(text: &str) -> Option<ProbeKind> {
        match text {
            "journey" => Some(ProbeKind::Journey),
            other => CheckKind::parse(other).map(ProbeKind::Check),
        }
    }

    pub fn is_journey(self) -> bool {
        matches!(self, ProbeKind::Journey)
    }
}

impl From<CheckKind> for ProbeKind {
    fn from(k: CheckKind) -> Self {
        ProbeKind::Check(k)
    }
}

impl std::fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads as its text, like the [`crate::closed`] sets.
impl std::ops::Deref for ProbeKind {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for ProbeKind {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ProbeKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for ProbeKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_probe_kind_reads_back_from_its_text() {
        let all: Vec<&str> = ProbeKind::all().map(ProbeKind::as_str).collect();
        assert_eq!(all, ["journey", "http", "dns", "tls", "bucket"]);
        for k in ProbeKind::all() {
            assert_eq!(ProbeKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ProbeKind::parse("check"), None);
        assert_eq!(
            serde_json::to_string(&ProbeKind::Check(CheckKind::Dns)).unwrap(),
            "\"dns\""
        );
    }
}

//! `${…}` references in probe files, expanded once at load.
//!
//! Forms: `${name}` (a var or secret defined earlier in the file), `${env:NAME}`,
//! `${env:NAME:-default}`, `${file:PATH}` (relative to the probe file; one trailing line
//! break, `\n` or `\r\n`, is dropped). `$${` writes a literal `${`. An unset environment variable without a default
//! is an error naming the variable: a probe must never run with a silently empty password.

use std::collections::BTreeMap;
use std::path::Path;

/// Where `${env:…}` values come from. A seam so unit tests need not touch the process env.
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;

    /// True for commands that never use a secret's value (`list`, `rules`): a secret whose
    /// environment variable or file is missing then loads as [`UNSET_SECRET`] instead of
    /// failing the load, so they run where the secrets are not (a CI job).
    fn secrets_unused(&self) -> bool {
        false
    }
}

/// What a secret holds when it could not be read for a command that never uses it: an
/// absolute URL, so that a secret used as one (a magic link) still loads.
pub const UNSET_SECRET: &str = "https://unset-secret.invalid/";

/// `env`, for a command that never uses a secret's value (see [`Env::secrets_unused`]).
pub struct SecretsUnused<'a>(pub &'a dyn Env);

impl Env for SecretsUnused<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name)
    }

    fn secrets_unused(&self) -> bool {
        true
    }
}

/// The real process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }
}

/// Some variables set here, the rest from `fallback` (the demo points journeys at its own
/// fixture site this way without touching the process environment).
pub struct Overlay<'a> {
    pub vars: BTreeMap<String, String>,
    pub fallback: &'a dyn Env,
}

impl Env for Overlay<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .cloned()
            .or_else(|| self.fallback.get(name))
    }
}

/// Why a reference could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("environment variable {0} is not set (and the reference gives no default)")]
    UnsetEnv(String),
    #[error("unknown reference '${{{0}}}'")]
    Unknown(String),
    #[error("cannot read file '{path}' for '${{file:…}}': {error}")]
    File { path: String, error: String },
    #[error("unterminated reference: '${{' without a closing '}}'")]
    Unterminated,
    #[error(
        "malformed reference '${{{0}}}': use ${{name}}, ${{env:NAME}}, ${{env:NAME:-default}} or ${{file:PATH}}"
    )]
    Malformed(String),
}

/// Values a reference may name: vars and secrets defined so far in the file.
pub struct Scope<'a> {
    pub values: &'a BTreeMap<String, String>,
    pub env: &'a dyn Env,
    pub base_dir: &'a Path,
}

impl Scope<'_> {
    /// Expand every reference in `input`.
    pub fn expand(&self, input: &str) -> Result<String, RefError> {
        let mut out = String::with_capacity(input.len());
        let mut rest = input;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            if let Some(after) = tail.strip_prefix("$${") {
                out.push_str("${");
                rest = after;
            } else if let Some(after) = tail.strip_prefix("${") {
                let end = after.find('}').ok_or(RefError::Unterminated)?;
                out.push_str(&self.lookup(&after[..end])?);
                rest = &after[end + 1..];
            } else {
                out.push('$');
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Does expanding `input` fail only for want of environment variables or files (every
    /// other reference in it fine)?
    pub fn lacks_only_env_or_file(&self, input: &str) -> bool {
        let mut lacking = false;
        let mut rest = input;
        while let Some(at) = rest.find('$') {
            let tail = &rest[at..];
            if let Some(after) = tail.strip_prefix("$${") {
                rest = after;
            } else if let Some(after) = tail.strip_prefix("${") {
                let Some(end) = after.find('}') else {
                    return false;
                };
                match self.lookup(&after[..end]) {
                    Ok(_) => {}
                    Err(RefError::UnsetEnv(_) | RefError::File { .. }) => lacking = true,
                    Err(_) => return false,
                }
                rest = &after[end + 1..];
            } else {
                rest = &tail[1..];
            }
        }
        lacking
    }

    fn lookup(&self, inner: &str) -> Result<String, RefError> {
        if let Some(spec) = inner.strip_prefix("env:") {
            let (name, default) = match spec.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (spec, None),
            };
            if !is_identifier(name) {
                return Err(RefError::Malformed(inner.to_string()));
            }
            return match (self.env.get(name), default) {
                (Some(v), _) => Ok(v),
                (None, Some(d)) => Ok(d.to_string()),
                (None, None) => Err(RefError::UnsetEnv(name.to_string())),
            };
        }
        if let Some(path) = inner.strip_prefix("file:") {
            let full = self.base_dir.join(path);
            return std::fs::read_to_string(&full)
                .map(|s| {
                    let s = s.strip_suffix('\n').unwrap_or(&s);
                    s.strip_suffix('\r').unwrap_or(s).to_string()
                })
                .map_err(|e| RefError::File {
                    path: full.display().to_string(),
                    error: e.to_string(),
                });
        }
        if !is_identifier(inner) {
            return Err(RefError::Malformed(inner.to_string()));
        }
        self.values
            .get(inner)
            .cloned()
            .ok_or_else(|| RefError::Unknown(inner.to_string()))
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope_with<'a>(
        values: &'a BTreeMap<String, String>,
        env: &'a BTreeMap<String, String>,
    ) -> Scope<'a> {
        Scope {
            values,
            env,
            base_dir: Path::new("."),
        }
    }

    #[test]
    fn expands_vars_env_and_defaults() {
        let values = BTreeMap::from([("base".to_string(), "http://x".to_string())]);
        let env = BTreeMap::from([("USER_NAME".to_string(), "ann".to_string())]);
        let s = scope_with(&values, &env);
        assert_eq!(s.expand("${base}/login").unwrap(), "http://x/login");
        assert_eq!(s.expand("${env:USER_NAME}").unwrap(), "ann");
        assert_eq!(s.expand("${env:NOPE:-dflt}").unwrap(), "dflt");
        assert_eq!(s.expand("${env:NOPE:-}").unwrap(), "");
        assert_eq!(
            s.expand("cost $5, $${literal}").unwrap(),
            "cost $5, ${literal}"
        );
    }

    #[test]
    fn unset_env_without_default_names_the_variable() {
        let values = BTreeMap::new();
        let env = BTreeMap::new();
        let err = scope_with(&values, &env)
            .expand("${env:LOGIN_PASSWORD}")
            .unwrap_err();
        assert_eq!(err, RefError::UnsetEnv("LOGIN_PASSWORD".into()));
        assert!(err.to_string().contains("LOGIN_PASSWORD"));
    }

    #[test]
    fn malformed_and_unterminated_are_errors() {
        let values = BTreeMap::new();
        let env = BTreeMap::new();
        let s = scope_with(&values, &env);
        assert_eq!(s.expand("${base"), Err(RefError::Unterminated));
        assert!(matches!(s.expand("${a b}"), Err(RefError::Malformed(_))));
        assert_eq!(s.expand("${user}"), Err(RefError::Unknown("user".into())));
    }

    #[test]
    fn lacking_only_env_or_file_looks_at_every_reference() {
        let values = BTreeMap::from([("user".to_string(), "ann".to_string())]);
        let env = BTreeMap::new();
        let s = scope_with(&values, &env);
        assert!(s.lacks_only_env_or_file("${env:PW}"));
        assert!(s.lacks_only_env_or_file("${user}:${env:PW}@$${x}"));
        assert!(s.lacks_only_env_or_file("${file:no-such-file}"));
        // A mistake after (or before) the missing variable is still a mistake.
        assert!(!s.lacks_only_env_or_file("${env:PW}${usr}"));
        assert!(!s.lacks_only_env_or_file("${a b}${env:PW}"));
        assert!(!s.lacks_only_env_or_file("${env:PW}${oops"));
        // Nothing missing: expanding works, nothing to stand in for.
        assert!(!s.lacks_only_env_or_file("${user}"));
        assert!(!s.lacks_only_env_or_file("plain"));
    }

    #[test]
    fn file_reference_drops_one_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "s3cret\n").unwrap();
        let values = BTreeMap::new();
        let env = BTreeMap::new();
        let s = Scope {
            values: &values,
            env: &env,
            base_dir: dir.path(),
        };
        assert_eq!(s.expand("${file:pw}").unwrap(), "s3cret");
        assert!(matches!(
            s.expand("${file:missing}"),
            Err(RefError::File { .. })
        ));
    }
}

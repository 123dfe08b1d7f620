//! journeyprobe: synthetic user journeys through a real browser, turned into business value
//! proxy metrics.
//!
//! # Data flow
//!
//! Modules depend on each other one way (`scripts/module-cycles` fails on a cycle; the
//! drawing is in docs/ARCHITECTURE.md). From the bottom up:
//!
//! - Leaves: [`outcome`] (`Outcome`, `Reason`, `Problem`, `ExitCode`), [`time`], [`redact`],
//!   [`process`], [`log_line`] (the text log's one-event-one-line writer).
//! - [`config`] parses and validates probe files into domain types (journeys, checks,
//!   BPMs); nothing it returns is re-checked downstream. [`result`] is the record of one
//!   attempt, [`net`] the prober's own resolver, connects and phase-timed HTTP client.
//! - [`browser`] holds WebDriver sessions, chromedriver and the pool; [`journey`] drives a
//!   journey's steps through a session; [`check`] runs one dependency check over [`net`].
//! - [`probe`] is the one run policy (attempts, retries, `depends_on` attribution, a dead
//!   driver replaced) that both `run` and `serve` call.
//! - `run` ([`cli`]) hands each run to [`report`] (human, JSON, JUnit). `serve`
//!   ([`service`], on the grid of [`schedule`]) hands each attempt to [`history`] (SQLite)
//!   and [`metrics`] (Prometheus); [`server`] serves the board and the API from them.
//! - [`bpm`] reads run counts back from [`history`] and sets the BPM gauges in [`metrics`]:
//!   history → BPM → metrics is deliberate, since a BPM is a ratio over a window of stored
//!   runs, which no single run knows.
//! - `repro` ([`cli`]) re-reads YAML on purpose: the text a past run recorded in history,
//!   parsed again by [`config`] (`config::file::parse_recorded`). Nothing else downstream
//!   of [`config`] reads YAML.
//! - [`rules`] turns the probe files into Prometheus alert rules. [`faultlab`] is the
//!   demo's broken-on-purpose site: no prober module imports it, only [`cli`].
//!
//! [`cli`] is the edge: it maps what the library returns to output and an exit code.

// Every `unsafe` block says why it is sound (a `// SAFETY:` comment); clippy checks it.
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod bpm;
pub mod browser;
pub mod check;
pub mod cli;
mod closed;
pub mod config;
pub mod faultlab;
pub mod history;
pub mod journey;
pub mod log_line;
pub mod metrics;
pub mod net;
pub mod outcome;
pub mod probe;
pub mod process;
pub mod redact;
pub mod report;
pub mod result;
pub mod rules;
pub mod schedule;
pub mod server;
pub mod service;
pub mod time;

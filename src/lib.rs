//! journeyprobe: synthetic user journeys through a real browser, turned into business value
//! proxy metrics.
//!
//! Data flows one way: probe files are parsed and validated ([`config`]) into journeys, a
//! runner drives them through WebDriver ([`journey`], [`browser`]) and each run ends in one
//! [`outcome::Outcome`], which reporters ([`report`]) display. Under `serve`, a scheduler
//! ([`schedule`], [`service`]) runs every probe on its grid; runs go to the history
//! ([`history`]), become Prometheus series ([`metrics`]) and BPMs ([`bpm`]), and are served
//! with the board and the API ([`server`]); [`rules`] turns the probe files into alerts.
//! Nothing downstream re-reads YAML; nothing upstream knows how outcomes are displayed.

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

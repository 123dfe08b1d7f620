//! journeyprobe: synthetic user journeys through a real browser, turned into business value
//! proxy metrics.
//!
//! Data flows one way: probe files are parsed and validated ([`config`]) into journeys, a
//! runner drives them through WebDriver ([`journey`], [`browser`]) and each run ends in one
//! [`outcome::Outcome`], which reporters ([`report`]) display. Nothing downstream re-reads
//! YAML; nothing upstream knows how outcomes are displayed.

pub mod bpm;
pub mod browser;
pub mod check;
pub mod cli;
pub mod config;
pub mod faultlab;
pub mod history;
pub mod journey;
pub mod metrics;
pub mod outcome;
pub mod process;
pub mod redact;
pub mod report;
pub mod result;
pub mod rules;
pub mod schedule;
pub mod server;
pub mod service;

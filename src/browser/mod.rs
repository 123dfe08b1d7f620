//! Everything WebDriver: the chromedriver process we manage ([`driver`]), sessions with
//! deadlines ([`session`]), in-page scripts ([`scripts`]) and error classification
//! ([`classify`]).

pub mod classify;
pub mod driver;
pub mod pool;
pub mod scripts;
pub mod session;
pub mod supervisor;

pub use session::{BrowserOptions, Session};

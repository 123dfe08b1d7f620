//! Everything WebDriver: what differs between browsers ([`engine`]: Chromium, Firefox), the
//! driver processes we manage ([`driver`]), sessions with deadlines ([`session`]: reading the page and
//! Chrome DevTools calls in its children), in-page scripts ([`scripts`]), error
//! classification ([`classify`]), the pool of warm sessions ([`pool`]) and where a run's
//! WebDriver server comes from ([`supervisor`]).

pub mod classify;
pub mod driver;
pub mod engine;
pub mod pool;
pub mod scripts;
pub mod session;
pub mod supervisor;

pub use engine::{BrowserKind, BrowserOptions};
pub use session::Session;

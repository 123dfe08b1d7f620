//! Everything WebDriver: the chromedriver process we manage ([`driver`]), what a session
//! asks for ([`capabilities`]), sessions with deadlines ([`session`]: reading the page and
//! Chrome DevTools calls in its children), in-page scripts ([`scripts`]), error
//! classification ([`classify`]), the pool of warm sessions ([`pool`]) and where a run's
//! WebDriver server comes from ([`supervisor`]).

pub mod capabilities;
pub mod classify;
pub mod driver;
pub mod pool;
pub mod scripts;
pub mod session;
pub mod supervisor;

pub use capabilities::BrowserOptions;
pub use session::Session;

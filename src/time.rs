//! The two ways journeyprobe writes a time as a number: a duration in milliseconds (results,
//! reports) and an instant in Unix seconds (history rows, metrics, the API). A leaf: every
//! module that records or shows a time uses these, none of them owns them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds, rounded to a tenth, as results and reports carry them.
pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

/// Seconds since the Unix epoch; 0 for a time before it.
pub fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_are_rounded_to_a_tenth() {
        assert_eq!(ms(Duration::from_micros(12_345)), 12.3);
        assert_eq!(ms(Duration::from_micros(12_350)), 12.4);
        assert_eq!(ms(Duration::ZERO), 0.0);
    }

    #[test]
    fn a_time_before_the_epoch_is_zero() {
        assert_eq!(unix(UNIX_EPOCH + Duration::from_millis(1500)), 1.5);
        assert_eq!(unix(UNIX_EPOCH - Duration::from_secs(1)), 0.0);
    }
}

//! Waiting for another command's cache update, faster than LVM but with LVM's messages.
//!
//! LVM2 2.02.188 retries while lvmetad's token is "update in progress": it sleeps 1 s
//! (`_lvmetad_is_updating`) or a random 1-2 s (`lvmetad_token_matches`, `_lvmetad_send`,
//! `_token_update`) between attempts, and each attempt may print a "retrying ... for N
//! more seconds" line and check `lvmetad_update_wait_time`. A command therefore goes on
//! up to 2 s after the update ended. Here the same attempts happen on the same schedule
//! (so the same lines at the same rate, and the same timeout), but while it sleeps the
//! client also asks the daemon every 10-100 ms whether the update has ended
//! ([`Host::sleep_until`]); when it has, the next attempt comes at once. An early attempt
//! that finds the update still going prints nothing and checks no timeout: it sleeps the
//! rest of LVM's delay. Only timing changes (docs/compat.md).

use super::port::Host;
use std::time::{Duration, Instant};

/// First and longest interval between two polls of the daemon.
pub const POLL_FIRST: Duration = Duration::from_millis(10);
pub const POLL_MAX: Duration = Duration::from_millis(100);

/// The rest of LVM's current delay between two attempts of one retry loop.
#[derive(Debug, Default)]
pub struct Pacer {
    remaining: Duration,
}

impl Pacer {
    pub fn new() -> Pacer {
        Pacer::default()
    }

    /// Whether this attempt is one LVM makes (the first, or one after a full delay): only
    /// then are LVM's message and timeout check due.
    pub fn due(&self) -> bool {
        self.remaining.is_zero()
    }

    /// Sleep: a new delay `d` when the attempt was due, else the rest of the current one;
    /// `ended` is asked between polls whether the other command's update has ended.
    pub fn sleep(&mut self, host: &dyn Host, d: Duration, ended: &mut dyn FnMut() -> bool) {
        if self.due() {
            self.remaining = d;
        }
        self.remaining = host.sleep_until(self.remaining, ended);
    }
}

/// [`Host::sleep_until`] on the real clock: sleep `d`, polling `ready` at growing
/// intervals ([`POLL_FIRST`] to [`POLL_MAX`]); returns the part of `d` left when `ready`
/// said yes, or zero after the full `d`.
pub fn poll_sleep(d: Duration, ready: &mut dyn FnMut() -> bool) -> Duration {
    let start = Instant::now();
    let mut step = POLL_FIRST;
    loop {
        let left = d.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Duration::ZERO;
        }
        std::thread::sleep(step.min(left));
        let left = d.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Duration::ZERO;
        }
        if ready() {
            return left;
        }
        step = (step * 2).min(POLL_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore)] // sleeps
    fn poll_sleep_returns_early_with_the_rest_or_sleeps_fully() {
        let mut n = 0;
        let left = poll_sleep(Duration::from_secs(5), &mut || {
            n += 1;
            n == 3
        });
        assert_eq!(n, 3);
        assert!(left > Duration::ZERO && left < Duration::from_secs(5));
        let mut asked = 0;
        let left = poll_sleep(Duration::from_millis(30), &mut || {
            asked += 1;
            false
        });
        assert_eq!(left, Duration::ZERO);
        assert!(asked >= 1);
    }
}

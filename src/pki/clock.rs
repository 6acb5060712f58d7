//! Which clock certificates are dated by. kubeadm (1.31+) verifies existing certificates at the
//! node's time (`phases/init/certs.go` → `pkiutil.VerifyCertChain`), and nodes share the
//! engine host's kernel clock, so the engine's `SystemTime` is the node's clock; kindling's own
//! clock can differ (a remote `DOCKER_HOST`, a Docker Desktop VM that drifted).

use time::{Duration, OffsetDateTime};

/// kubeadm's `CertificateBackdate` (constants.go): NotBefore lies this far before issue time.
pub(super) const BACKDATE: Duration = Duration::minutes(5);
/// Clocks further apart than this get a warning.
const SKEW_WARNING: Duration = Duration::minutes(1);

/// The nodes' clock relative to this machine's: the engine's `SystemTime` minus this machine's
/// time when the engine answered. Zero when the engine did not report its time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeClock {
    offset: Duration,
}

impl NodeClock {
    /// Compares the engine's reported time with this machine's time at the moment it answered.
    pub fn from_engine(engine_time: Option<OffsetDateTime>, host_time: OffsetDateTime) -> Self {
        NodeClock {
            offset: engine_time.map_or(Duration::ZERO, |engine| engine - host_time),
        }
    }

    /// How far the nodes' clock is ahead of this machine's (negative: behind).
    pub fn offset(&self) -> Duration {
        self.offset
    }

    /// One warning line when the two clocks differ by more than a minute.
    pub fn skew_warning(&self) -> Option<String> {
        if self.offset.abs() <= SKEW_WARNING {
            return None;
        }
        let direction = if self.offset.is_negative() {
            "behind"
        } else {
            "ahead of"
        };
        Some(format!(
            "the Docker engine's clock is {} {direction} this machine's: certificates are dated \
             so that both clocks accept them (kubeadm checks them at the node's time), but \
             other tools may disagree about times; consider synchronising the clocks",
            human(self.offset.abs())
        ))
    }

    /// The validity window of a certificate issued at this machine's time `host_now` and valid
    /// for `period`: from kubeadm's backdate before the earlier of the two clocks (so the node
    /// and this machine both accept it at once) to `period` after the node's time, which is
    /// where kubeadm would have issued it (certlist.go `GetConfig`).
    pub(super) fn window(
        &self,
        host_now: OffsetDateTime,
        period: Duration,
    ) -> (OffsetDateTime, OffsetDateTime) {
        let node_now = host_now + self.offset;
        (node_now.min(host_now) - BACKDATE, node_now + period)
    }
}

/// `2h3m4s`, `5m0s`, `45s`: whole seconds in Go's duration style.
fn human(d: Duration) -> String {
    let total = d.whole_seconds();
    let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    const HOST: i64 = 1_800_000_000;

    #[test]
    fn node_behind_dates_certificates_by_the_node() {
        // The engine answers 3 hours behind this machine.
        let clock = NodeClock::from_engine(Some(at(HOST - 3 * 3600)), at(HOST));
        assert_eq!(clock.offset(), Duration::hours(-3));
        let (nb, na) = clock.window(at(HOST + 10), Duration::hours(8760));
        let node_now = at(HOST + 10 - 3 * 3600);
        assert_eq!(nb, node_now - Duration::minutes(5));
        assert!(nb <= node_now, "not yet valid on the node");
        assert_eq!(na, node_now + Duration::hours(8760));
        let warning = clock.skew_warning().unwrap();
        assert!(warning.contains("3h0m0s behind"), "{warning}");
    }

    #[test]
    fn node_ahead_keeps_certificates_valid_here_too() {
        let clock = NodeClock::from_engine(Some(at(HOST + 7200)), at(HOST));
        let (nb, na) = clock.window(at(HOST), Duration::hours(1));
        // Valid for this machine's tools from the start, expiring by the node's clock.
        assert_eq!(nb, at(HOST) - Duration::minutes(5));
        assert_eq!(na, at(HOST + 7200 + 3600));
        assert!(clock.skew_warning().unwrap().contains("2h0m0s ahead of"));
    }

    #[test]
    fn small_or_unknown_skew_is_not_reported() {
        for engine in [Some(at(HOST + 60)), Some(at(HOST - 60)), None] {
            let clock = NodeClock::from_engine(engine, at(HOST));
            assert_eq!(clock.skew_warning(), None, "{engine:?}");
        }
        let clock = NodeClock::from_engine(Some(at(HOST - 61)), at(HOST));
        assert!(clock.skew_warning().unwrap().contains("1m1s behind"));
        let unknown = NodeClock::from_engine(None, at(HOST));
        assert_eq!(
            unknown.window(at(HOST), Duration::hours(1)),
            (at(HOST - 300), at(HOST + 3600))
        );
    }
}

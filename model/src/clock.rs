//! Simulated time. The core never reads a clock: the caller passes the start
//! time in and the engine moves it forward (MFA prompts, sync waits).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in simulated time: milliseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SimTime(pub u64);

/// A span of simulated time in milliseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct SimDuration(pub u64);

/// Seconds between 1601-01-01 (the FILETIME epoch) and 1970-01-01.
const FILETIME_EPOCH_OFFSET_S: u64 = 11_644_473_600;

impl SimDuration {
    pub const fn seconds(s: u64) -> Self {
        SimDuration(s * 1000)
    }
    pub const fn minutes(m: u64) -> Self {
        SimDuration(m * 60_000)
    }
    pub fn as_secs(self) -> u64 {
        self.0 / 1000
    }
}

impl SimTime {
    /// 2026-11-22 09:00:00 UTC: the default start of a run.
    pub const DEFAULT_START: SimTime = SimTime(1_795_338_000_000);

    /// Whole seconds since the Unix epoch (JWT `iat`, `exp`).
    pub fn unix_seconds(self) -> u64 {
        self.0 / 1000
    }

    /// From whole seconds since the Unix epoch.
    pub fn from_unix_seconds(s: u64) -> Self {
        SimTime(s.saturating_mul(1000))
    }

    /// 100-nanosecond intervals since 1601-01-01 (Windows FILETIME).
    pub fn filetime(self) -> u64 {
        (self.0 / 1000 + FILETIME_EPOCH_OFFSET_S) * 10_000_000 + (self.0 % 1000) * 10_000
    }

    /// From a Windows FILETIME; `None` before 1970.
    pub fn from_filetime(ft: u64) -> Option<Self> {
        let ms = ft / 10_000;
        ms.checked_sub(FILETIME_EPOCH_OFFSET_S * 1000).map(SimTime)
    }

    /// `self + d`, saturating.
    #[must_use]
    pub fn plus(self, d: SimDuration) -> Self {
        SimTime(self.0.saturating_add(d.0))
    }

    /// How long ago `earlier` was; zero if it is in the future.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// The calendar date and time: (year, month, day, hour, minute, second).
    pub fn civil(self) -> (i64, u32, u32, u32, u32, u32) {
        let secs = self.unix_seconds();
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        // Howard Hinnant's days-to-civil algorithm.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        (
            year,
            month,
            day,
            (rem / 3600) as u32,
            (rem % 3600 / 60) as u32,
            (rem % 60) as u32,
        )
    }

    /// The instant of a calendar date and time (UTC), if it is one this
    /// clock can hold (from 1970).
    pub fn from_civil(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<Self> {
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        // Howard Hinnant's days-from-civil algorithm.
        let y = y - i64::from(mo <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(mo);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
        u64::try_from(secs).ok().map(SimTime::from_unix_seconds)
    }

    /// `2026-11-22T09:00:00.000Z`: an xs:dateTime in UTC, as AD FS writes
    /// the times of its SAML assertions.
    pub fn xml_datetime(self) -> String {
        let (y, mo, d, h, mi, s) = self.civil();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.000Z")
    }

    /// `20261122090000Z`: the GeneralizedTime / UTCTime digits X.509 uses.
    pub fn compact(self) -> String {
        let (y, mo, d, h, mi, s) = self.civil();
        format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z")
    }
}

impl fmt::Display for SimTime {
    /// `2026-11-22 09:00:00 UTC`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.civil();
        write!(f, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
    }
}

impl fmt::Display for SimDuration {
    /// `9 min 30 s`, `2 h 5 min`, `800 ms`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0 / 1000;
        match (s / 3600, s % 3600 / 60, s % 60) {
            (0, 0, 0) => write!(f, "{} ms", self.0),
            (0, 0, sec) => write!(f, "{sec} s"),
            (0, m, 0) => write!(f, "{m} min"),
            (0, m, sec) => write!(f, "{m} min {sec} s"),
            (h, 0, _) => write!(f, "{h} h"),
            (h, m, _) => write!(f, "{h} h {m} min"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_start_is_the_documented_date() {
        assert_eq!(
            SimTime::DEFAULT_START.to_string(),
            "2026-11-22 09:00:00 UTC"
        );
        assert_eq!(SimTime::DEFAULT_START.compact(), "20261122090000Z");
    }

    #[test]
    fn from_civil_inverts_civil() {
        for secs in [0u64, 951_782_400, 1_795_337_999, 4_102_444_800] {
            let t = SimTime::from_unix_seconds(secs);
            let (y, mo, d, h, mi, s) = t.civil();
            assert_eq!(SimTime::from_civil(y, mo, d, h, mi, s), Some(t));
        }
        assert_eq!(SimTime::from_civil(1969, 12, 31, 0, 0, 0), None);
        assert_eq!(SimTime::from_civil(2026, 13, 1, 0, 0, 0), None);
    }

    #[test]
    fn civil_dates_across_leap_years() {
        assert_eq!(SimTime(0).to_string(), "1970-01-01 00:00:00 UTC");
        // 2024-02-29 12:34:56 UTC
        assert_eq!(
            SimTime::from_unix_seconds(1_709_210_096).to_string(),
            "2024-02-29 12:34:56 UTC"
        );
    }

    #[test]
    fn filetime_round_trips() {
        let t = SimTime::DEFAULT_START.plus(SimDuration(123));
        assert_eq!(SimTime::from_filetime(t.filetime()), Some(t));
        // 1970-01-01 as FILETIME, as Windows documents it.
        assert_eq!(SimTime(0).filetime(), 116_444_736_000_000_000);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(SimDuration::minutes(10).to_string(), "10 min");
        assert_eq!(SimDuration::seconds(570).to_string(), "9 min 30 s");
        assert_eq!(SimDuration::minutes(125).to_string(), "2 h 5 min");
    }
}

//! SLA clocks: how much of a contract's time has run, and when it runs out.
//!
//! A clock counts **working time**: the open hours of a [`Calendar`]
//! (per weekday, in the tenant's time zone, minus holidays), minus the
//! [`Pause`]s (a ticket waiting on the customer stops its clocks). A P1
//! contract uses [`Calendar::always`] (24x7); business-hours contracts use
//! the tenant's calendar.
//!
//! Open hours are local wall-clock times converted to instants day by day,
//! so a daylight-saving change is honoured: on a spring-forward day an
//! opening of 01:00–05:00 in New York lasts three hours (02:00–03:00 does
//! not exist) and on a fall-back day a midnight-to-midnight opening lasts
//! 25 hours. A local time that does not exist is read as the instant just
//! after the gap, a repeated one as its first occurrence (RFC 5545's
//! "compatible" rule).
//!
//! Everything here is a pure function of its inputs (no clock is read), so
//! tests drive it with fixed instants.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

use crate::time::Timestamp;

/// Minutes in a day: an opening may end at 24:00.
pub const DAY_MINUTES: u16 = 24 * 60;

/// How far ahead a due time is looked for; a calendar open less than the
/// budget within this horizon has no due time (`None`).
const HORIZON_DAYS: i32 = 3 * 366;

/// An opening on one weekday, in minutes after local midnight
/// (`start < end <= 1440`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    pub start: u16,
    pub end: u16,
}

/// When a contract's clocks run.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    /// An IANA time zone name (`Europe/Paris`) or `UTC`.
    pub zone: String,
    tz: TimeZone,
    /// Openings per weekday, Monday first; none: closed all day.
    pub week: [Vec<Opening>; 7],
    /// Local dates on which the calendar is closed.
    pub holidays: BTreeSet<Date>,
}

/// Why a calendar could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("unknown time zone {0:?}; use an IANA name such as Europe/Paris or UTC")]
    Zone(String),
    #[error("{0}: an opening must start before it ends, within 00:00-24:00")]
    Opening(String),
    #[error("the calendar is never open: at least one weekday needs opening hours")]
    NeverOpen,
}

/// An interval during which the clocks stand still (`until: None`: still
/// paused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    pub from: Timestamp,
    pub until: Option<Timestamp>,
}

impl Calendar {
    /// Open around the clock, every day (UTC; the zone does not matter).
    #[must_use]
    pub fn always() -> Self {
        let all = vec![Opening {
            start: 0,
            end: DAY_MINUTES,
        }];
        Self {
            zone: "UTC".into(),
            tz: TimeZone::UTC,
            week: std::array::from_fn(|_| all.clone()),
            holidays: BTreeSet::new(),
        }
    }

    /// Open `start`–`end` (minutes after midnight) on the given weekdays
    /// (Monday is 0), in `zone`.
    ///
    /// # Errors
    /// An unknown zone, an empty or inverted opening, or no weekday.
    pub fn business(
        zone: &str,
        days: &[usize],
        start: u16,
        end: u16,
    ) -> Result<Self, CalendarError> {
        let mut week: [Vec<Opening>; 7] = Default::default();
        for &d in days {
            if let Some(day) = week.get_mut(d) {
                day.push(Opening { start, end });
            }
        }
        Self::new(zone, week, BTreeSet::new())
    }

    /// A calendar from its parts, checked.
    ///
    /// # Errors
    /// An unknown zone, an empty or inverted opening, or no opening at all.
    pub fn new(
        zone: &str,
        mut week: [Vec<Opening>; 7],
        holidays: BTreeSet<Date>,
    ) -> Result<Self, CalendarError> {
        let tz = if zone.eq_ignore_ascii_case("utc") {
            TimeZone::UTC
        } else {
            TimeZone::get(zone).map_err(|_| CalendarError::Zone(zone.to_owned()))?
        };
        for (d, day) in week.iter_mut().enumerate() {
            for o in day.iter() {
                if o.start >= o.end || o.end > DAY_MINUTES {
                    return Err(CalendarError::Opening(format!(
                        "{} {}",
                        WEEKDAYS[d],
                        hhmm_range(*o)
                    )));
                }
            }
            day.sort_by_key(|o| o.start);
        }
        if week.iter().all(Vec::is_empty) {
            return Err(CalendarError::NeverOpen);
        }
        Ok(Self {
            zone: zone.to_owned(),
            tz,
            week,
            holidays,
        })
    }

    /// Adds closed local dates.
    #[must_use]
    pub fn with_holidays(mut self, dates: impl IntoIterator<Item = Date>) -> Self {
        self.holidays.extend(dates);
        self
    }

    /// The instant of local `minute` (may be 1440: the next midnight) on
    /// `date`.
    fn instant(&self, date: Date, minute: u16) -> Option<i64> {
        let (date, minute) = if minute >= DAY_MINUTES {
            (date.tomorrow().ok()?, 0)
        } else {
            (date, minute)
        };
        let dt = date.at(
            i8::try_from(minute / 60).ok()?,
            i8::try_from(minute % 60).ok()?,
            0,
            0,
        );
        // `to_zoned` resolves gaps forward and folds to the earlier time.
        let z = dt.to_zoned(self.tz.clone()).ok()?;
        Some(z.timestamp().as_millisecond())
    }

    /// The open spans (instants, in milliseconds) of each local day from
    /// the one holding `from`, in order, for [`HORIZON_DAYS`].
    fn spans(&self, from: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
        let first = jiff::Timestamp::from_millisecond(from)
            .ok()
            .map(|t| t.to_zoned(self.tz.clone()).date())
            // The day before too: an opening ending at 24:00 is that day's.
            .and_then(|d| d.yesterday().ok());
        (0..HORIZON_DAYS)
            .map_while(move |i| first.and_then(|d| d.checked_add(jiff::Span::new().days(i)).ok()))
            .filter(|d| !self.holidays.contains(d))
            .flat_map(move |d| {
                let wd = weekday_index(d.weekday());
                self.week[wd]
                    .iter()
                    .filter_map(move |o| Some((self.instant(d, o.start)?, self.instant(d, o.end)?)))
            })
            .filter(move |&(_, e)| e > from)
    }

    /// Working time between `start` and `end` (zero when `end` is not
    /// after `start`), the pauses left out.
    #[must_use]
    pub fn working_between(&self, start: Timestamp, end: Timestamp, pauses: &[Pause]) -> Duration {
        let (a, b) = (start.as_millis(), end.as_millis());
        let mut total: i64 = 0;
        for (s, e) in self.spans(a) {
            if s >= b {
                break;
            }
            for (ps, pe) in unpaused(s.max(a), e.min(b), pauses) {
                total += pe - ps;
            }
        }
        Duration::from_millis(u64::try_from(total).unwrap_or(0))
    }

    /// When `budget` of working time from `start` runs out, the pauses
    /// left out; `None` while a pause without end stops the clock before
    /// then (or when the calendar is not open that long within three
    /// years).
    #[must_use]
    pub fn due(&self, start: Timestamp, budget: Duration, pauses: &[Pause]) -> Option<Timestamp> {
        let a = start.as_millis();
        let mut left = i64::try_from(budget.as_millis()).ok()?;
        let open_pause = pauses
            .iter()
            .filter(|p| p.until.is_none())
            .map(|p| p.from.as_millis())
            .min();
        for (s, e) in self.spans(a) {
            let s = s.max(a);
            if let Some(p) = open_pause
                && p <= s
            {
                return None;
            }
            for (ps, pe) in unpaused(s, e, pauses) {
                if left <= pe - ps {
                    return Some(Timestamp::from_millis(ps + left));
                }
                left -= pe - ps;
            }
        }
        None
    }
}

/// `[s, e)` minus every pause, as the pieces left in order.
fn unpaused(s: i64, e: i64, pauses: &[Pause]) -> Vec<(i64, i64)> {
    let mut pieces = vec![(s, e)];
    for p in pauses {
        let (ps, pe) = (
            p.from.as_millis(),
            p.until.map_or(i64::MAX, Timestamp::as_millis),
        );
        if pe <= ps {
            continue;
        }
        pieces = pieces
            .into_iter()
            .flat_map(|(a, b)| {
                let mut out = Vec::with_capacity(2);
                if ps > a {
                    out.push((a, b.min(ps)));
                }
                if pe < b {
                    out.push((a.max(pe), b));
                }
                out.into_iter().filter(|(x, y)| y > x)
            })
            .collect();
    }
    pieces
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn weekday_index(w: Weekday) -> usize {
    usize::try_from(w.to_monday_zero_offset()).unwrap_or(0)
}

fn hhmm_range(o: Opening) -> String {
    format!(
        "{:02}:{:02}-{:02}:{:02}",
        o.start / 60,
        o.start % 60,
        o.end / 60,
        o.end % 60
    )
}

/// Budgets of one priority: how much working time each clock has, and
/// whether they run around the clock or on the tenant's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub acknowledge: Duration,
    pub first_response: Duration,
    pub resolve: Duration,
    /// Clocks run 24x7 (else on the tenant's business calendar).
    pub around_the_clock: bool,
}

impl Terms {
    /// The budget of one clock.
    #[must_use]
    pub const fn budget(&self, kind: ClockKind) -> Duration {
        match kind {
            ClockKind::Acknowledge => self.acknowledge,
            ClockKind::FirstResponse => self.first_response,
            ClockKind::Resolve => self.resolve,
        }
    }
}

/// A tenant's contract: terms per priority, P1 first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub terms: [Terms; 4],
}

impl Default for Contract {
    /// The documented defaults (`docs/sla.md`): P1 around the clock, the
    /// others in business hours.
    fn default() -> Self {
        const MIN: u64 = 60;
        const HOUR: u64 = 3600;
        let t = |ack: u64, resp: u64, resolve: u64, always: bool| Terms {
            acknowledge: Duration::from_secs(ack),
            first_response: Duration::from_secs(resp),
            resolve: Duration::from_secs(resolve),
            around_the_clock: always,
        };
        Self {
            terms: [
                t(15 * MIN, 30 * MIN, 4 * HOUR, true),
                t(30 * MIN, 2 * HOUR, 8 * HOUR, false),
                t(4 * HOUR, 8 * HOUR, 40 * HOUR, false),
                t(8 * HOUR, 16 * HOUR, 80 * HOUR, false),
            ],
        }
    }
}

/// The business calendar a tenant gets until it sets its own: Monday to
/// Friday, 09:00–17:00 UTC.
#[must_use]
pub fn default_business_calendar() -> Calendar {
    Calendar::business("UTC", &[0, 1, 2, 3, 4], 9 * 60, 17 * 60)
        .unwrap_or_else(|_| Calendar::always())
}

/// What a clock measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClockKind {
    Acknowledge,
    FirstResponse,
    Resolve,
}

impl ClockKind {
    pub const ALL: [Self; 3] = [Self::Acknowledge, Self::FirstResponse, Self::Resolve];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::FirstResponse => "first-response",
            Self::Resolve => "resolve",
        }
    }
}

/// Where a clock stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    /// Running, under 75 % of its budget used.
    Running { due: Timestamp, used_percent: u32 },
    /// Running, at least 75 % used: the warning.
    Warning { due: Timestamp, used_percent: u32 },
    /// Out of time and not met.
    Breached { due: Timestamp, used_percent: u32 },
    /// Stopped by a pause that has not ended.
    Paused { used_percent: u32 },
    /// Met at `at` (`late` when after the due time).
    Met { at: Timestamp, late: bool },
}

/// The share of a budget that counts as a warning.
pub const WARNING_PERCENT: u32 = 75;

/// A clock's state at `now`: started at `start` with `budget`, met at
/// `met` (if it was).
#[must_use]
pub fn clock_state(
    cal: &Calendar,
    start: Timestamp,
    budget: Duration,
    pauses: &[Pause],
    met: Option<Timestamp>,
    now: Timestamp,
) -> ClockState {
    let due = cal.due(start, budget, pauses);
    if let Some(at) = met {
        return ClockState::Met {
            at,
            late: due.is_none_or(|d| at > d),
        };
    }
    let used = cal.working_between(start, now, pauses);
    let used_percent = if budget.is_zero() {
        100
    } else {
        u32::try_from(used.as_millis() * 100 / budget.as_millis()).unwrap_or(u32::MAX)
    };
    match due {
        None => ClockState::Paused { used_percent },
        Some(due) if now >= due => ClockState::Breached { due, used_percent },
        Some(due) if used_percent >= WARNING_PERCENT => ClockState::Warning { due, used_percent },
        Some(due) => ClockState::Running { due, used_percent },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap_or_else(|| panic!("timestamp {s}"))
    }

    fn h(n: u64) -> Duration {
        Duration::from_secs(n * 3600)
    }

    fn m(n: u64) -> Duration {
        Duration::from_secs(n * 60)
    }

    fn paris_9_to_5() -> Calendar {
        Calendar::business("Europe/Paris", &[0, 1, 2, 3, 4], 9 * 60, 17 * 60).expect("calendar")
    }

    fn date(s: &str) -> Date {
        s.parse().expect("date")
    }

    #[test]
    fn due_times_follow_the_calendar() {
        let always = Calendar::always();
        let paris = paris_9_to_5();
        let paris_holiday = paris_9_to_5().with_holidays([date("2026-05-04")]);
        // New York, open 01:00-05:00 every day: on 2026-03-08 clocks spring
        // forward at 02:00, so that day is open three hours.
        let ny_small_hours =
            Calendar::business("America/New_York", &[0, 1, 2, 3, 4, 5, 6], 60, 5 * 60)
                .expect("calendar");
        // Paris, open all day every day: 2026-10-25 falls back, 25 hours.
        let paris_all_day =
            Calendar::business("Europe/Paris", &[0, 1, 2, 3, 4, 5, 6], 0, DAY_MINUTES)
                .expect("calendar");
        let lunch = Calendar::new(
            "Europe/Paris",
            [
                vec![
                    Opening {
                        start: 9 * 60,
                        end: 12 * 60,
                    },
                    Opening {
                        start: 14 * 60,
                        end: 18 * 60,
                    },
                ],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
            ],
            BTreeSet::new(),
        )
        .expect("calendar");
        let cases: &[(&str, &Calendar, &str, Duration, &str)] = &[
            (
                "24x7, plain",
                &always,
                "2026-05-04T10:00:00Z",
                h(4),
                "2026-05-04T14:00:00Z",
            ),
            (
                "24x7 across midnight",
                &always,
                "2026-05-04T22:30:00Z",
                h(4),
                "2026-05-05T02:30:00Z",
            ),
            (
                "24x7, zero budget",
                &always,
                "2026-05-04T10:00:00Z",
                m(0),
                "2026-05-04T10:00:00Z",
            ),
            // Monday 4 May 2026, Paris is UTC+2 in summer: 09:00 local is 07:00Z.
            (
                "inside hours",
                &paris,
                "2026-05-04T08:00:00Z",
                h(2),
                "2026-05-04T10:00:00Z",
            ),
            (
                "Friday evening to Monday",
                &paris,
                "2026-05-08T14:00:00Z",
                h(2),
                "2026-05-11T08:00:00Z",
            ),
            (
                "received on Saturday",
                &paris,
                "2026-05-09T10:00:00Z",
                h(1),
                "2026-05-11T08:00:00Z",
            ),
            (
                "before opening",
                &paris,
                "2026-05-04T05:00:00Z",
                m(30),
                "2026-05-04T07:30:00Z",
            ),
            (
                "ends exactly at closing",
                &paris,
                "2026-05-04T07:00:00Z",
                h(8),
                "2026-05-04T15:00:00Z",
            ),
            (
                "a whole day more",
                &paris,
                "2026-05-04T07:00:00Z",
                h(9),
                "2026-05-05T08:00:00Z",
            ),
            (
                "Monday a holiday",
                &paris_holiday,
                "2026-05-01T14:00:00Z",
                h(2),
                "2026-05-05T08:00:00Z",
            ),
            // Winter: Paris is UTC+1.
            (
                "winter offset",
                &paris,
                "2026-01-05T08:00:00Z",
                h(1),
                "2026-01-05T09:00:00Z",
            ),
            (
                "spring forward: 3 hours that day",
                &ny_small_hours,
                "2026-03-08T06:00:00Z",
                h(4),
                "2026-03-09T06:00:00Z",
            ),
            (
                "fall back: 25 hours that day",
                &paris_all_day,
                "2026-10-24T22:00:00Z",
                h(25),
                "2026-10-25T23:00:00Z",
            ),
            (
                "split day, lunch skipped",
                &lunch,
                "2026-05-04T09:00:00Z",
                h(2),
                "2026-05-04T13:00:00Z",
            ),
        ];
        for (what, cal, start, budget, want) in cases {
            assert_eq!(
                cal.due(t(start), *budget, &[]),
                Some(t(want)),
                "{what}: {start} + {budget:?}"
            );
            // And back: the working time up to the due time is the budget.
            assert_eq!(
                cal.working_between(t(start), t(want), &[]),
                *budget,
                "{what}: working time"
            );
        }
    }

    #[test]
    fn pauses_stop_the_clock() {
        let always = Calendar::always();
        let start = t("2026-05-04T10:00:00Z");
        let two_hours = Pause {
            from: t("2026-05-04T11:00:00Z"),
            until: Some(t("2026-05-04T13:00:00Z")),
        };
        assert_eq!(
            always.due(start, h(4), &[two_hours]),
            Some(t("2026-05-04T16:00:00Z"))
        );
        // Overlapping pauses count once.
        let overlapping = Pause {
            from: t("2026-05-04T12:00:00Z"),
            until: Some(t("2026-05-04T14:00:00Z")),
        };
        assert_eq!(
            always.due(start, h(4), &[two_hours, overlapping]),
            Some(t("2026-05-04T17:00:00Z"))
        );
        // A pause outside business hours changes nothing.
        let paris = paris_9_to_5();
        let night = Pause {
            from: t("2026-05-04T18:00:00Z"),
            until: Some(t("2026-05-05T05:00:00Z")),
        };
        assert_eq!(
            paris.due(t("2026-05-04T14:00:00Z"), h(2), &[night]),
            Some(t("2026-05-05T08:00:00Z"))
        );
        // Still waiting on the customer: no due time, before or after.
        let open = Pause {
            from: t("2026-05-04T11:00:00Z"),
            until: None,
        };
        assert_eq!(always.due(start, h(4), &[open]), None);
        assert_eq!(
            always.due(start, m(30), &[open]),
            Some(t("2026-05-04T10:30:00Z")),
            "runs out before the pause"
        );
        assert_eq!(
            always.working_between(start, t("2026-05-04T20:00:00Z"), &[open]),
            h(1)
        );
    }

    #[test]
    fn clock_states_warn_at_75_percent_and_breach_at_the_due_time() {
        let always = Calendar::always();
        let start = t("2026-05-04T10:00:00Z");
        let state = |now: &str| clock_state(&always, start, h(4), &[], None, t(now));
        let due = t("2026-05-04T14:00:00Z");
        assert_eq!(
            state("2026-05-04T12:00:00Z"),
            ClockState::Running {
                due,
                used_percent: 50
            }
        );
        assert_eq!(
            state("2026-05-04T13:00:00Z"),
            ClockState::Warning {
                due,
                used_percent: 75
            }
        );
        assert_eq!(
            state("2026-05-04T14:00:00Z"),
            ClockState::Breached {
                due,
                used_percent: 100
            }
        );
        assert_eq!(
            clock_state(
                &always,
                start,
                h(4),
                &[],
                Some(t("2026-05-04T13:59:00Z")),
                t("2026-05-05T00:00:00Z")
            ),
            ClockState::Met {
                at: t("2026-05-04T13:59:00Z"),
                late: false
            }
        );
        assert_eq!(
            clock_state(
                &always,
                start,
                h(4),
                &[],
                Some(t("2026-05-04T14:01:00Z")),
                t("2026-05-05T00:00:00Z")
            ),
            ClockState::Met {
                at: t("2026-05-04T14:01:00Z"),
                late: true
            }
        );
        let open = Pause {
            from: t("2026-05-04T11:00:00Z"),
            until: None,
        };
        assert_eq!(
            clock_state(
                &always,
                start,
                h(4),
                &[open],
                None,
                t("2026-05-04T20:00:00Z")
            ),
            ClockState::Paused { used_percent: 25 }
        );
    }

    #[test]
    fn bad_calendars_are_refused_with_a_reason() {
        assert_eq!(
            Calendar::business("Mars/Olympus", &[0], 540, 1020),
            Err(CalendarError::Zone("Mars/Olympus".into()))
        );
        let e = Calendar::business("UTC", &[2], 1020, 540).expect_err("inverted");
        assert_eq!(
            e.to_string(),
            "Wednesday 17:00-09:00: an opening must start before it ends, within 00:00-24:00"
        );
        assert_eq!(
            Calendar::business("UTC", &[], 540, 1020),
            Err(CalendarError::NeverOpen)
        );
        assert!(Calendar::business("UTC", &[0], 0, DAY_MINUTES + 1).is_err());
    }
}

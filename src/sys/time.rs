//! Local (time-zone adjusted) calendar time: `localtime_r(3)`.
//!
//! rsync prints times in the local zone (`--list-only`, `%t`, the log
//! file); the zone rules live in the C library (`TZ`, `/etc/localtime`),
//! so this is FFI, kept here behind one typed function.

/// A broken-down local time, as printed (`year` is the full year, `month`
/// counts from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalTime {
    pub year: i32,
    pub month: i32,
    pub day: i32,
    pub hour: i32,
    pub minute: i32,
    pub second: i32,
}

/// `t` (seconds since the epoch) in the local time zone; the epoch
/// (1970-01-01 00:00:00) if the time cannot be represented.
pub(crate) fn local_time(t: i64) -> LocalTime {
    let time: libc::time_t = t;
    // SAFETY: `libc::tm` is a plain C struct for which all-zero bytes are a
    // valid value (the `tm_zone` pointer becomes null).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the duration of the call;
    // localtime_r writes only into `tm` and is thread-safe.
    let ok = unsafe { !libc::localtime_r(&time, &mut tm).is_null() };
    if !ok {
        return LocalTime {
            year: 1970,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        };
    }
    LocalTime {
        year: tm.tm_year + 1900,
        month: tm.tm_mon + 1,
        day: tm.tm_mday,
        hour: tm.tm_hour,
        minute: tm.tm_min,
        second: tm.tm_sec,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_in_range_and_offset_is_whole_minutes() {
        let t = 1_700_000_000;
        let lt = local_time(t);
        assert!((1..=12).contains(&lt.month) && (1..=31).contains(&lt.day));
        assert!(lt.hour < 24 && lt.minute < 60 && lt.second < 60);
        // Zone offsets are whole minutes: the seconds agree with UTC.
        assert_eq!(i64::from(lt.second), t % 60);
        assert!((2023..=2023).contains(&lt.year));
    }

    #[test]
    fn unrepresentable_time_is_the_epoch() {
        let lt = local_time(i64::MAX);
        assert_eq!((lt.year, lt.month, lt.day), (1970, 1, 1));
    }
}

//! `--stop-at=y-m-dTh:m`: rsync's abbreviated local times, and the next
//! moment that matches one.
//!
//! Hand-written because the grammar is rsync's own (dashes or slashes, a
//! 2- or 4-digit year, any leading part left off, `:MM` for "the next
//! minute MM"); no date crate parses it. Fields more significant than the
//! first one given are free; less significant ones left off mean 0
//! ("1-30" is the next January 30th at midnight).

use crate::sys::time::local_time;

/// The fields given; `None` is free (or 0, see the module header).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct StopAt {
    year: Option<i32>,
    month: Option<i32>,
    day: Option<i32>,
    hour: Option<i32>,
    minute: Option<i32>,
}

fn num(s: &str, max_len: usize) -> Option<i32> {
    (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn parse_date(s: &str, at: &mut StopAt) -> Option<()> {
    let parts: Vec<&str> = s.split(['-', '/']).collect();
    let (y, m, d) = match parts.as_slice() {
        [d] => (None, None, *d),
        [m, d] => (None, Some(*m), *d),
        [y, m, d] => (Some(*y), Some(*m), *d),
        _ => return None,
    };
    at.year = match y {
        Some(y) if y.len() == 2 => Some(2000 + num(y, 2)?),
        Some(y) if y.len() == 4 => Some(num(y, 4)?),
        Some(_) => return None,
        None => None,
    };
    at.month = m.map(|m| num(m, 2)).map_or(Some(None), |v| v.map(Some))?;
    at.day = Some(num(d, 2)?);
    Some(())
}

fn parse_time(s: &str, at: &mut StopAt) -> Option<()> {
    match s.split_once(':') {
        Some((h, m)) => {
            at.hour = if h.is_empty() { None } else { Some(num(h, 2)?) };
            at.minute = Some(num(m, 2)?);
        }
        None => at.hour = Some(num(s, 2)?),
    }
    Some(())
}

/// Parses a `--stop-at` value; `None` for rsync's "invalid format".
pub(crate) fn parse(v: &str) -> Option<StopAt> {
    let mut at = StopAt::default();
    match v.split_once('T') {
        Some((d, t)) => {
            if !d.is_empty() {
                parse_date(d, &mut at)?;
            }
            parse_time(t, &mut at)?;
        }
        None if v.contains(':') => parse_time(v, &mut at)?,
        None => parse_date(v, &mut at)?,
    }
    let ok = at.month.is_none_or(|m| (1..=12).contains(&m))
        && at.day.is_none_or(|d| (1..=31).contains(&d))
        && at.hour.is_none_or(|h| (0..24).contains(&h))
        && at.minute.is_none_or(|m| (0..60).contains(&m));
    ok.then_some(at)
}

/// The first whole minute after `now` (seconds since the epoch) whose local
/// time matches, searched over the next 100 years.
pub(crate) fn next_match(at: &StopAt, now: i64) -> Option<i64> {
    let date_given = at.year.is_some() || at.month.is_some() || at.day.is_some();
    let hours: Vec<i32> = match at.hour {
        Some(h) => vec![h],
        None if date_given => vec![0],
        None => (0..24).collect(),
    };
    let minute = at.minute.unwrap_or(0);
    let lt = local_time(now);
    let mut noon = now - i64::from(lt.hour * 3600 + lt.minute * 60 + lt.second) + 12 * 3600;
    for _ in 0..36_600 {
        let day = local_time(noon);
        let fits = at.year.is_none_or(|y| y == day.year)
            && at.month.is_none_or(|m| m == day.month)
            && at.day.is_none_or(|d| d == day.day);
        if fits {
            let midnight = noon - i64::from(day.hour * 3600 + day.minute * 60 + day.second);
            for &h in &hours {
                let t = midnight + i64::from(h * 3600 + minute * 60);
                let got = local_time(t);
                if t > now && got.hour == h && got.minute == minute {
                    return Some(t);
                }
            }
        }
        if at.year.is_some_and(|y| day.year > y) {
            return None;
        }
        noon += 24 * 3600;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsync_forms_parse() {
        let p = |s| parse(s).unwrap_or_else(|| panic!("{s}"));
        assert_eq!(p("2000-12-31T23:59").year, Some(2000));
        assert_eq!(p("99/1/2T3:04").year, Some(2099));
        assert_eq!(p("1-30").month, Some(1));
        assert_eq!(p("1-30").day, Some(30));
        assert_eq!(p("14:00").hour, Some(14));
        assert_eq!(p(":59").hour, None);
        assert_eq!(p("31").day, Some(31));
        assert_eq!(p("T13").hour, Some(13));
        for bad in [
            "bogus", "", "13-01", "1-32", "25:00", "12:60", "1-2-3-4", "123-1-1",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn next_match_is_in_the_future_and_matches() {
        let now = 1_800_000_000; // 2027-01-15 08:00 UTC
        for v in ["14:00", ":59", "1", "1-30", "T13", "2030-06-01T00:00"] {
            let at = parse(v).expect("parses");
            let t = next_match(&at, now).expect("a match");
            assert!(t > now, "{v}");
            let lt = local_time(t);
            assert_eq!(lt.minute, at.minute.unwrap_or(0), "{v}");
            assert!(at.day.is_none_or(|d| d == lt.day), "{v}");
        }
        let past = parse("2000-01-01T00:00").expect("parses");
        assert_eq!(next_match(&past, now), None);
    }
}

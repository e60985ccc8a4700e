//! Resident identity card numbers (居民身份证号码, GB 11643-1999): 17 digits (a 6-digit
//! address code, an 8-digit birth date, a 3-digit sequence whose parity gives the sex)
//! and a check character (ISO 7064 MOD 11-2, `X` for 10).

use chrono::{Datelike, NaiveDate};
use std::fmt;

/// A valid ID number, upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

/// Why a text is not an ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdError {
    /// Not 18 characters of digits (the last may be X).
    Shape,
    /// The birth date is not a date, or is in the future of `today`.
    BirthDate,
    /// The check character does not match the other seventeen.
    Checksum,
}

impl IdError {
    /// The field-error code forms and imports report.
    pub fn code(self) -> &'static str {
        match self {
            IdError::Shape => "id_shape",
            IdError::BirthDate => "id_birth_date",
            IdError::Checksum => "id_checksum",
        }
    }
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character of seventeen digits.
pub fn check_char(first17: &[u32; 17]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    CHECK[(sum % 11) as usize]
}

impl IdNumber {
    /// Parses and checks `s` (spaces ignored, `x` accepted), refusing a birth date after
    /// `today`.
    pub fn parse(s: &str, today: NaiveDate) -> Result<IdNumber, IdError> {
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        let chars: Vec<char> = t.chars().collect();
        if chars.len() != 18
            || !chars[..17].iter().all(char::is_ascii_digit)
            || !(chars[17].is_ascii_digit() || chars[17] == 'X')
        {
            return Err(IdError::Shape);
        }
        let mut digits = [0u32; 17];
        for (d, c) in digits.iter_mut().zip(&chars[..17]) {
            *d = c.to_digit(10).unwrap_or(0);
        }
        let birth =
            NaiveDate::parse_from_str(&t[6..14], "%Y%m%d").map_err(|_| IdError::BirthDate)?;
        if birth > today || birth.year() < 1890 {
            return Err(IdError::BirthDate);
        }
        if check_char(&digits) != chars[17] {
            return Err(IdError::Checksum);
        }
        Ok(IdNumber(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date the number carries.
    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").unwrap_or_default()
    }

    /// The sex the sequence's parity gives: odd male, even female.
    pub fn is_male(&self) -> bool {
        self.0[16..17].parse::<u32>().unwrap_or(0) % 2 == 1
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    #[test]
    fn the_standards_example_and_its_faults() {
        // GB 11643's example number.
        let id = IdNumber::parse("11010519491231002X", today()).unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert!(!id.is_male());
        assert_eq!(IdNumber::parse("110105 19491231 002x", today()), Ok(id));
        assert_eq!(
            IdNumber::parse("110105194912310021", today()),
            Err(IdError::Checksum)
        );
        assert_eq!(
            IdNumber::parse("11010519491331002X", today()),
            Err(IdError::BirthDate)
        );
        assert_eq!(
            IdNumber::parse("11010520301231002X", today()),
            Err(IdError::BirthDate)
        );
        assert_eq!(
            IdNumber::parse("1101051949123100", today()),
            Err(IdError::Shape)
        );
        assert_eq!(
            IdNumber::parse("11010519491231002Y", today()),
            Err(IdError::Shape)
        );
    }

    proptest! {
        /// Any seventeen digits with a real birth date and their own check character parse;
        /// changing any one digit breaks the checksum (MOD 11-2 detects single errors).
        #[test]
        fn checksums_catch_every_single_digit_error(
            area in 110000u32..660000, y in 1920i32..2025, doy in 0u32..365, seq in 0u32..1000, at in 0usize..17, bump in 1u32..10
        ) {
            let birth = NaiveDate::from_yo_opt(y, doy % 365 + 1).unwrap_or(NaiveDate::from_ymd_opt(y, 1, 1).unwrap());
            let first = format!("{area:06}{}{seq:03}", birth.format("%Y%m%d"));
            let mut digits = [0u32; 17];
            for (d, c) in digits.iter_mut().zip(first.chars()) { *d = c.to_digit(10).unwrap(); }
            let good = format!("{first}{}", check_char(&digits));
            let id = IdNumber::parse(&good, today()).unwrap();
            prop_assert_eq!(id.birth_date(), birth);
            let mut wrong: Vec<char> = good.chars().collect();
            let d = wrong[at].to_digit(10).unwrap();
            wrong[at] = char::from_digit((d + bump) % 10, 10).unwrap();
            let wrong: String = wrong.into_iter().collect();
            prop_assert!(IdNumber::parse(&wrong, today()).is_err());
        }
    }
}

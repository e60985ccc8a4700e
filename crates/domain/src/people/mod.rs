//! The care register: households and residents of a block, the care tags that make a
//! worker know her block by heart (心中有数), and the door-to-door visits they call for.

mod id_number;

pub use id_number::{IdError, IdNumber, check_char};

crate::coded_enum! {
    /// The groups the seed names, which every worker knows for her block, in the seed's
    /// order (志愿者骨干, 独居老人, 重大病人, 残疾人, 精神病人, 困难人群: counts are shown
    /// so), plus those an admin defines (`custom`).
    pub enum CareTag {
        /// 志愿者骨干
        CoreVolunteer = "core_volunteer",
        /// 独居老人
        ElderlyAlone = "elderly_alone",
        /// 重、大病人
        SeriousIllness = "serious_illness",
        /// 残疾人 (with kind and grade)
        Disability = "disability",
        /// 精神障碍患者: seen only by the block's worker and the secretary (精神卫生法).
        MentalDisorder = "mental_disorder",
        /// 困难人群 (低保, 低收入, 困难)
        Hardship = "hardship",
    }
}

impl CareTag {
    /// Tags whose holders are counted only for people who may know them: anyone else
    /// sees the count without names, and under five as "<5".
    pub fn is_sensitive(self) -> bool {
        !matches!(self, CareTag::CoreVolunteer)
    }

    /// Days between visits by default (admins change them): living alone weekly, serious
    /// illness every two weeks, mental disorder and hardship monthly; none for the rest.
    pub fn default_visit_days(self) -> Option<u32> {
        match self {
            CareTag::ElderlyAlone => Some(7),
            CareTag::SeriousIllness => Some(14),
            CareTag::MentalDisorder | CareTag::Hardship => Some(30),
            CareTag::Disability | CareTag::CoreVolunteer => None,
        }
    }
}

crate::coded_enum! {
    /// Kinds of disability on the 残疾人证.
    pub enum DisabilityKind {
        Visual = "visual",
        Hearing = "hearing",
        Speech = "speech",
        Physical = "physical",
        Intellectual = "intellectual",
        Mental = "mental",
        Multiple = "multiple",
    }
}

crate::coded_enum! {
    /// The hardship a household is registered for.
    pub enum HardshipKind {
        /// 最低生活保障
        Dibao = "dibao",
        /// 低收入
        LowIncome = "low_income",
        /// 支出型贫困 and other 困难
        Other = "other",
    }
}

crate::coded_enum! {
    /// Where a resident stands with the household register.
    pub enum Residency {
        /// 户籍 here
        Registered = "registered",
        /// 人户分离: registered elsewhere, living here
        LivingHere = "living_here",
        /// 来沪人员 with a residence permit
        Migrant = "migrant",
        /// 境外人员
        Foreign = "foreign",
    }
}

crate::coded_enum! {
    pub enum Sex {
        Male = "male",
        Female = "female",
    }
}

crate::coded_enum! {
    /// What a visit was for.
    pub enum VisitKind {
        Routine = "routine",
        Care = "care",
        FollowUp = "follow_up",
        Emergency = "emergency",
    }
}

crate::coded_enum! {
    /// Why a resident's record was archived.
    pub enum ArchiveReason {
        /// 迁出
        MovedAway = "moved_away",
        /// 去世
        Died = "died",
        /// A second record of the same person (the other one stays).
        Duplicate = "duplicate",
    }
}

/// The most a worker may write in a tag's note.
pub const TAG_NOTE_MAX: usize = 500;

/// Disability grades on the 残疾人证: 一级 (most severe) to 四级.
pub const DISABILITY_GRADES: std::ops::RangeInclusive<u8> = 1..=4;

/// The youngest age counted as elderly (老年人) in Shanghai's services.
pub const ELDERLY_AGE: u32 = 60;

/// Age in whole years on `day`.
pub fn age_on(birth: chrono::NaiveDate, day: chrono::NaiveDate) -> u32 {
    day.years_since(birth).unwrap_or(0)
}

/// A count as the subdistrict sees it: under five shown as "<5", so that a small count
/// in a small place does not point at a person.
pub fn small_count(n: i64) -> String {
    if (1..5).contains(&n) {
        "<5".to_string()
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_and_counts() {
        assert_eq!(CareTag::ElderlyAlone.default_visit_days(), Some(7));
        assert_eq!(CareTag::MentalDisorder.default_visit_days(), Some(30));
        assert!(CareTag::MentalDisorder.is_sensitive() && !CareTag::CoreVolunteer.is_sensitive());
        assert_eq!(small_count(0), "0");
        assert_eq!(small_count(3), "<5");
        assert_eq!(small_count(5), "5");
        let d = |y, m, dd| chrono::NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(age_on(d(1949, 12, 31), d(2026, 12, 1)), 76);
        assert_eq!(age_on(d(1949, 12, 1), d(2026, 12, 1)), 77);
    }
}

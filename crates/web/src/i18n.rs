//! Translations. Every user-visible string lives in `locales/*.toml` (Chinese first), none
//! in templates or handlers; both files must have the same keys (a test checks).

use axum::http::HeaderMap;
use doorstep_domain::FieldError;
use std::collections::HashMap;

const ZH_CN: &str = include_str!("../locales/zh-CN.toml");
const EN: &str = include_str!("../locales/en.toml");

/// A language of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::ZhCn)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }
    }
}

/// The loaded message catalogues.
#[derive(Debug)]
pub struct I18n {
    zh: HashMap<String, String>,
    en: HashMap<String, String>,
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

/// Parses one catalogue. The catalogues are compiled in, so a broken one is a build
/// defect that the tests catch; at run time it degrades to showing keys.
pub fn parse_catalogue(src: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    match src.parse::<toml::Table>() {
        Ok(t) => flatten("", &t, &mut out),
        Err(e) => tracing::error!(error = %e, "translation catalogue does not parse"),
    }
    out
}

impl I18n {
    pub fn load() -> Self {
        Self {
            zh: parse_catalogue(ZH_CN),
            en: parse_catalogue(EN),
        }
    }

    fn catalogue(&self, lang: Lang) -> &HashMap<String, String> {
        match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.zh.contains_key(key)
    }

    /// The message for `key`, falling back to Chinese, then to the key itself.
    pub fn t(&self, lang: Lang, key: &str) -> String {
        self.catalogue(lang)
            .get(key)
            .or_else(|| self.zh.get(key))
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }

    /// The message with `{0}`, `{1}`… replaced by `args`.
    pub fn t_args(&self, lang: Lang, key: &str, args: &[String]) -> String {
        let mut s = self.t(lang, key);
        for (i, a) in args.iter().enumerate() {
            s = s.replace(&format!("{{{i}}}"), a);
        }
        s
    }

    /// The name of a circle category ("菜场" for `market`).
    pub fn circle_category(&self, lang: Lang, c: doorstep_geo::Category) -> String {
        self.t(lang, &format!("circle.category.{}", c.code()))
    }

    pub fn field_error(&self, lang: Lang, e: &FieldError) -> String {
        self.t_args(lang, &format!("field_error.{}", e.code), &e.params)
    }

    pub fn keys(&self, lang: Lang) -> Vec<&String> {
        let mut k: Vec<&String> = self.catalogue(lang).keys().collect();
        k.sort();
        k
    }
}

/// The language of a request: the `lang` cookie (the UI's switch) first; for the API, then
/// `Accept-Language`; otherwise Chinese.
pub fn negotiate(headers: &HeaderMap, api: bool) -> Lang {
    if let Some(l) = crate::session::cookie(headers, "lang").and_then(|v| Lang::parse(&v)) {
        return l;
    }
    if api
        && let Some(first) = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        && let Some(l) = Lang::parse(first.split(';').next().unwrap_or(""))
    {
        return l;
    }
    Lang::ZhCn
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text of every `.rs` file under `dir`.
    fn sources(dir: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(sources(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
        out
    }

    #[test]
    fn both_catalogues_parse_and_have_the_same_keys() {
        let i = I18n::load();
        assert!(i.zh.len() > 100, "zh-CN catalogue looks empty");
        let zh = i.keys(Lang::ZhCn);
        let en = i.keys(Lang::En);
        let only_zh: Vec<_> = zh
            .iter()
            .filter(|k| !i.en.contains_key(k.as_str()))
            .collect();
        let only_en: Vec<_> = en
            .iter()
            .filter(|k| !i.zh.contains_key(k.as_str()))
            .collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "only zh: {only_zh:?}; only en: {only_en:?}"
        );
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let i = I18n::load();
        let mut missing = Vec::new();
        let re_call = |src: &str, open: &str| -> Vec<String> {
            src.match_indices(open)
                // A call of `t`/`tr` itself, not of `push_str` or `fmt`.
                .filter(|(pos, _)| {
                    !src[..*pos]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
                .filter_map(|(pos, _)| {
                    let rest = &src[pos + open.len()..];
                    rest.find('"').map(|end| rest[..end].to_string())
                })
                .collect()
        };
        for (name, src) in crate::render::TEMPLATES {
            for key in re_call(src, "t(\"") {
                if !key.contains('~') && !i.has(&key) {
                    missing.push(format!("{name}: {key}"));
                }
            }
        }
        // Every key of a `tr` call in every source file of this crate.
        for src in sources(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))) {
            for key in re_call(&src, "tr(\"") {
                if !i.has(&key) {
                    missing.push(key);
                }
            }
        }
        for e in doorstep_domain::Entity::ALL {
            for f in e.fields() {
                for key in [
                    format!("field.{}", f.name),
                    format!("entity.{}", e.code()),
                    format!("entity_plural.{}", e.code()),
                ] {
                    if !i.has(&key) {
                        missing.push(key);
                    }
                }
            }
        }
        // The request forms' labels (desk, resident, Open311 share these names).
        for f in doorstep_services::requests::REQUEST_FIELDS
            .iter()
            .chain(doorstep_services::requests::resident::RESIDENT_FIELDS)
        {
            if !i.has(&format!("field.{}", f.name)) {
                missing.push(format!("field.{}", f.name));
            }
        }
        for k in doorstep_domain::places::ROOM_KINDS
            .iter()
            .chain(doorstep_domain::places::PARTNER_KINDS)
        {
            if !i.has(&format!("choice.kind.{k}")) {
                missing.push(format!("choice.kind.{k}"));
            }
        }
        for c in doorstep_geo::Category::ALL {
            if !i.has(&format!("circle.category.{}", c.code())) {
                missing.push(format!("circle.category.{}", c.code()));
            }
        }
        // Every code of the enums the pages show, under its prefix.
        use doorstep_domain::audit::{AuditAction, AuditEntity, RevealReason};
        use doorstep_domain::requests::{
            Channel, FollowUpChannel, Inbox, Kind, ReturnReason, Satisfaction, State,
        };
        let coded: &[(&str, &[&str])] = &[
            ("choice.role.", doorstep_domain::Role::CODES),
            ("choice.kind.", Kind::CODES),
            ("choice.channel.", Channel::CODES),
            (
                "choice.category.",
                doorstep_domain::catalogue::Category::CODES,
            ),
            ("request.state.", State::CODES),
            ("request.box.", Inbox::CODES),
            ("request.reason.", ReturnReason::CODES),
            ("request.rating.", Satisfaction::CODES),
            ("audit_action.", AuditAction::CODES),
            ("entity.", AuditEntity::CODES),
            ("request.follow_up_via.", FollowUpChannel::CODES),
            ("reveal.reason.", RevealReason::CODES),
            ("care_tag.", doorstep_domain::people::CareTag::CODES),
            ("visit_kind.", doorstep_domain::people::VisitKind::CODES),
            ("sex.", doorstep_domain::people::Sex::CODES),
            ("residency.", doorstep_domain::people::Residency::CODES),
            (
                "archive_reason.",
                doorstep_domain::people::ArchiveReason::CODES,
            ),
            (
                "disability_kind.",
                doorstep_domain::people::DisabilityKind::CODES,
            ),
            (
                "hardship_kind.",
                doorstep_domain::people::HardshipKind::CODES,
            ),
        ];
        for (prefix, codes) in coded {
            for c in *codes {
                if !i.has(&format!("{prefix}{c}")) {
                    missing.push(format!("{prefix}{c}"));
                }
            }
        }
        for code in [
            "too_many_reports",
            "too_many",
            "file_too_large",
            "file_wrong_type",
            "image_unreadable",
            "not_text",
            "end_before_start",
            "longer_than_a_day",
            "before_first",
            "too_far",
            "outside_series",
            "nothing_left",
            "over_capacity",
            "image_too_large",
            "invalid_period",
            "invalid_date",
            "not_by_resolver",
            "id_shape",
            "id_birth_date",
            "id_checksum",
            "id_mismatch",
            "unreadable_file",
            "empty_file",
            "missing_columns",
            "unknown_building",
            "unknown_tag",
            "duplicate_in_file",
            "already_held",
            "future_date",
            "registered_elsewhere",
            "too_old",
        ] {
            if !i.has(&format!("field_error.{code}")) {
                missing.push(format!("field_error.{code}"));
            }
        }
        for k in [
            "open311.general",
            "open311.general_description",
            "open311.agency",
            "open311.notice",
        ] {
            if !i.has(k) {
                missing.push(k.to_string());
            }
        }
        for m in ["merge", "absorb", "receive"] {
            if !i.has(&format!("request.move.{m}")) {
                missing.push(format!("request.move.{m}"));
            }
        }
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "missing translations: {missing:?}");
    }

    #[test]
    fn languages_are_negotiated() {
        let mut h = HeaderMap::new();
        h.insert("accept-language", "en-US,en;q=0.9".parse().unwrap());
        assert_eq!(negotiate(&h, true), Lang::En);
        assert_eq!(
            negotiate(&h, false),
            Lang::ZhCn,
            "pages are Chinese unless switched"
        );
        h.insert("cookie", "a=b; lang=en".parse().unwrap());
        assert_eq!(negotiate(&h, false), Lang::En);
    }
}

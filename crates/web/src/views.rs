//! View models shared by the pages: form fields, tables, pagers, value display. Built in
//! Rust (where translations are looked up) so templates stay simple.

use crate::AppError;
use crate::i18n::{I18n, Lang};
use doorstep_domain::{Entity, FieldErrors, FieldKind, FieldSpec, Value};
use doorstep_store::{PlaceRecord, Store};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Titles of referenced records, by table and id.
pub type Refs = HashMap<&'static str, HashMap<i64, String>>;

/// Looks up the titles of every record that `records` reference.
pub async fn load_refs(
    store: &Store,
    entity: Entity,
    records: &[PlaceRecord],
) -> Result<Refs, AppError> {
    let mut refs = Refs::new();
    for spec in entity.fields() {
        if let FieldKind::Ref(table) = spec.kind {
            let ids: Vec<i64> = records
                .iter()
                .filter_map(|r| r.get(spec.name).as_i64())
                .collect();
            if !ids.is_empty() {
                let titles = store.titles(table, &ids).await?;
                refs.entry(table).or_default().extend(titles);
            }
        }
    }
    Ok(refs)
}

/// A neighbourhood's buildings in use, labelled "estate number", for a building select
/// (the desk form and the resident's report).
pub async fn building_options(
    store: &Store,
    subdistrict_id: i64,
    neighbourhood_id: i64,
) -> Result<Vec<SelectOption>, AppError> {
    let scope = doorstep_domain::Scope::Neighbourhood {
        subdistrict_id,
        neighbourhood_id,
    };
    let bs = store
        .list_places(
            Entity::Building,
            &doorstep_store::ListQuery::new(scope).all(),
        )
        .await?;
    let estates = load_refs(store, Entity::Building, &bs.items).await?;
    Ok(bs
        .items
        .iter()
        .filter(|b| b.archived_at.is_none())
        .map(|b| {
            let estate = b
                .get("estate_id")
                .as_i64()
                .and_then(|e| estates.get("estates").and_then(|m| m.get(&e)).cloned())
                .unwrap_or_default();
            SelectOption {
                value: b.id.to_string(),
                label: format!("{estate} {}", b.title()),
            }
        })
        .collect())
}

pub fn ref_href(table: &str, id: i64) -> String {
    format!("/{table}/{id}")
}

/// A value as people read it, with a link for references.
pub fn display(
    i18n: &I18n,
    lang: Lang,
    spec: &FieldSpec,
    v: &Value,
    refs: &Refs,
) -> (String, Option<String>) {
    match (spec.kind, v) {
        (_, Value::Null) => ("—".into(), None),
        (FieldKind::Bool, Value::Bool(b)) => (
            i18n.t(lang, if *b { "common.yes" } else { "common.no" }),
            None,
        ),
        (FieldKind::Choice(_), Value::Text(s)) => {
            (i18n.t(lang, &format!("choice.{}.{s}", spec.name)), None)
        }
        (FieldKind::Ref(table), Value::Int(id)) => {
            let title = refs
                .get(table)
                .and_then(|m| m.get(id))
                .cloned()
                .unwrap_or_else(|| format!("#{id}"));
            (title, Some(ref_href(table, *id)))
        }
        (FieldKind::Float { .. }, Value::Float(f)) => (format_num(*f), None),
        (_, v) => (v.to_form_string(), None),
    }
}

/// A number without trailing zeros (`30`, `25.5`, `31.208512`).
pub fn format_num(f: f64) -> String {
    let s = format!("{f:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[derive(Debug, Serialize, Default)]
pub struct FormField {
    pub name: String,
    pub label: String,
    /// text, number, tel, password, textarea, select, checkbox
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<SelectOption>,
    pub required: bool,
    pub readonly: bool,
    pub error: Option<String>,
    pub hint: Option<String>,
    pub max: Option<usize>,
    pub min: Option<String>,
    pub maxv: Option<String>,
    pub step: Option<&'static str>,
    pub autocomplete: Option<&'static str>,
    pub inputmode: Option<&'static str>,
}

#[derive(Debug, Serialize, Clone)]
pub struct SelectOption {
    pub value: String,
    pub label: String,
}

/// Options offered for reference fields, by field name.
pub type RefOptions = HashMap<&'static str, Vec<SelectOption>>;

/// Form fields for `specs`, showing `raw` (what was typed, or the stored values) and the
/// errors of the last submission.
pub fn form_fields(
    i18n: &I18n,
    lang: Lang,
    specs: &[FieldSpec],
    raw: &BTreeMap<String, String>,
    errors: &FieldErrors,
    options: &RefOptions,
    editing: bool,
) -> Vec<FormField> {
    specs
        .iter()
        .map(|spec| {
            let mut f = FormField {
                name: spec.name.to_string(),
                label: i18n.t(lang, &format!("field.{}", spec.name)),
                value: raw.get(spec.name).cloned().unwrap_or_default(),
                required: spec.required,
                readonly: editing && !spec.editable,
                error: errors.get(spec.name).map(|e| i18n.field_error(lang, e)),
                ..Default::default()
            };
            let hint_key = format!("hint.{}", spec.name);
            if i18n.has(&hint_key) {
                f.hint = Some(i18n.t(lang, &hint_key));
            }
            match spec.kind {
                FieldKind::Text { max, multiline } => {
                    f.kind = if multiline { "textarea" } else { "text" };
                    f.max = Some(max);
                }
                FieldKind::Phone => {
                    f.kind = "tel";
                    f.max = Some(20);
                    f.autocomplete = Some("tel");
                }
                FieldKind::Int { min, max } => {
                    f.kind = "number";
                    f.min = Some(min.to_string());
                    f.maxv = Some(max.to_string());
                    f.step = Some("1");
                    f.inputmode = Some("numeric");
                }
                FieldKind::Float { min, max } => {
                    f.kind = "number";
                    f.min = Some(format_num(min));
                    f.maxv = Some(format_num(max));
                    f.step = Some("any");
                    f.inputmode = Some("decimal");
                }
                FieldKind::Bool => f.kind = "checkbox",
                FieldKind::Choice(choices) => {
                    f.kind = "select";
                    f.options = choices
                        .iter()
                        .map(|c| SelectOption {
                            value: c.to_string(),
                            label: i18n.t(lang, &format!("choice.{}.{c}", spec.name)),
                        })
                        .collect();
                }
                FieldKind::Ref(_) => {
                    f.kind = "select";
                    f.options = options.get(spec.name).cloned().unwrap_or_default();
                }
            }
            f
        })
        .collect()
}

/// Stored values as a form shows them.
pub fn raw_values(values: &doorstep_domain::Values) -> BTreeMap<String, String> {
    values
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_form_string()))
        .collect()
}

#[derive(Debug, Serialize, Default)]
pub struct Table {
    pub headers: Vec<Header>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Serialize)]
pub struct Header {
    pub label: String,
    pub num: bool,
}

#[derive(Debug, Serialize, Default)]
pub struct Row {
    pub cells: Vec<Cell>,
    pub archived: bool,
}

#[derive(Debug, Serialize, Default)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub num: bool,
    pub badges: Vec<Badge>,
}

#[derive(Debug, Serialize, Clone)]
pub struct Badge {
    pub label: String,
    pub class: &'static str,
}

/// The badges of a record: demo data, archived, model station.
pub fn badges(i18n: &I18n, lang: Lang, r: &PlaceRecord) -> Vec<Badge> {
    let mut b = Vec::new();
    if r.is_demo {
        b.push(Badge {
            label: i18n.t(lang, "demo.badge"),
            class: "demo",
        });
    }
    if r.archived_at.is_some() {
        b.push(Badge {
            label: i18n.t(lang, "common.archived"),
            class: "off",
        });
    }
    if r.get("is_model").as_bool() {
        b.push(Badge {
            label: i18n.t(lang, "station.model"),
            class: "model",
        });
    }
    b
}

/// A table of records: the title links to the record; other listed fields follow, except
/// `skip` (the parent a section is already under).
pub fn records_table(
    i18n: &I18n,
    lang: Lang,
    entity: Entity,
    records: &[PlaceRecord],
    refs: &Refs,
    skip: Option<&str>,
) -> Table {
    let title = entity.title_field();
    let cols: Vec<&FieldSpec> = entity
        .fields()
        .iter()
        .filter(|f| f.listed && f.name != title && Some(f.name) != skip)
        .collect();
    let mut headers = vec![Header {
        label: i18n.t(lang, &format!("field.{title}")),
        num: false,
    }];
    headers.extend(cols.iter().map(|f| Header {
        label: i18n.t(lang, &format!("field.{}", f.name)),
        num: matches!(f.kind, FieldKind::Int { .. } | FieldKind::Float { .. }),
    }));
    let rows = records
        .iter()
        .map(|r| {
            let mut cells = vec![Cell {
                text: r.title(),
                href: Some(ref_href(entity.table(), r.id)),
                badges: badges(i18n, lang, r),
                ..Default::default()
            }];
            for f in &cols {
                let (text, href) = display(i18n, lang, f, r.get(f.name), refs);
                cells.push(Cell {
                    text,
                    href,
                    num: matches!(f.kind, FieldKind::Int { .. } | FieldKind::Float { .. }),
                    ..Default::default()
                });
            }
            Row {
                cells,
                archived: r.archived_at.is_some(),
            }
        })
        .collect();
    Table { headers, rows }
}

#[derive(Debug, Serialize)]
pub struct Pager {
    pub total: i64,
    pub from: i64,
    pub to: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `base` is the query string without the page parameter.
    pub fn new(total: i64, limit: i64, offset: i64, shown: usize, path: &str, base: &str) -> Pager {
        let page = offset / limit.max(1) + 1;
        let link = |p: i64| {
            let sep = if base.is_empty() { "" } else { "&" };
            format!("{path}?{base}{sep}page={p}")
        };
        Pager {
            total,
            from: if shown == 0 { 0 } else { offset + 1 },
            to: offset + shown as i64,
            prev: (page > 1).then(|| link(page - 1)),
            next: (offset + (shown as i64) < total).then(|| link(page + 1)),
        }
    }
}

/// Paging parameters from a query: `page` (1-based) and `per_page` (at most 200).
pub fn paging(page: Option<i64>, per_page: Option<i64>) -> (i64, i64) {
    let limit = per_page.unwrap_or(50).clamp(1, 200);
    let page = page.unwrap_or(1).max(1);
    (limit, (page - 1).saturating_mul(limit))
}

/// A working-day deadline (the midnight after the last working day) as the last day
/// itself, `2026-11-30 24:00`, rather than the confusing `2026-12-01 00:00`.
pub fn local_deadline(t: chrono::DateTime<chrono::Utc>) -> String {
    let local = t.with_timezone(&chrono_tz::Asia::Shanghai);
    if local.time() == chrono::NaiveTime::MIN {
        format!(
            "{} 24:00",
            (local - chrono::Duration::days(1)).format("%Y-%m-%d")
        )
    } else {
        local.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// A time as people in Shanghai read it.
pub fn local_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_links_pages() {
        let p = Pager::new(120, 50, 50, 50, "/buildings", "q=1");
        assert_eq!(p.prev.as_deref(), Some("/buildings?q=1&page=1"));
        assert_eq!(p.next.as_deref(), Some("/buildings?q=1&page=3"));
        assert_eq!((p.from, p.to), (51, 100));
        let last = Pager::new(120, 50, 100, 20, "/b", "");
        assert_eq!(last.next, None);
        assert_eq!(paging(Some(0), Some(10_000)), (200, 0));
    }

    #[test]
    fn numbers_show_without_trailing_zeros() {
        assert_eq!(format_num(30.0), "30");
        assert_eq!(format_num(25.5), "25.5");
        assert_eq!(format_num(31.208512), "31.208512");
    }
}

//! Tables of records, and how a value reads.

use super::{format_num, ref_href};
use crate::i18n::{I18n, Lang};
use doorstep_domain::{Entity, FieldKind, FieldSpec, Value};
use doorstep_services::places::Refs;
use doorstep_services::records::PlaceRecord;
use serde::Serialize;

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
            // Accounts are read by admins and secretaries only: for everyone else such a
            // link would end on "forbidden", so a name is shown without one.
            let href = (table != "accounts").then(|| ref_href(table, *id));
            (title, href)
        }
        (FieldKind::Float { .. }, Value::Float(f)) => (format_num(*f), None),
        (_, v) => (v.to_form_string(), None),
    }
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

//! The roster as committees keep it: an XLSX or CSV sheet with Chinese headers (a
//! template is offered), checked row by row — the ID number by GB 11643, the phone, the
//! building by its estate and number — with every error named by row and column. A dry
//! run only reports; an import writes nothing if any row fails, unless asked to import the
//! valid rows and report the rest. Re-importing updates people by ID number.

use super::people::{ResidentInput, check};
use super::seal;
use crate::{Caller, Error, Result, Services};
use chrono::NaiveDate;
use doorstep_domain::people::{CareTag, Residency};
use doorstep_domain::{BuildingId, Role, Scope};
use doorstep_store::{RosterCounts, RosterRow};
use std::collections::{HashMap, HashSet};

/// The template's columns, in order; the starred ones are required.
pub const COLUMNS: &[(&str, bool)] = &[
    ("小区", true),
    ("楼号", true),
    ("单元", false),
    ("室号", true),
    ("姓名", true),
    ("身份证号", true),
    ("联系电话", false),
    ("户籍情况", false),
    ("关爱标签", false),
];

/// How residents write the tags in the sheet.
pub const TAG_WORDS: &[(&str, CareTag)] = &[
    ("独居老人", CareTag::ElderlyAlone),
    ("独居", CareTag::ElderlyAlone),
    ("重大病", CareTag::SeriousIllness),
    ("重病", CareTag::SeriousIllness),
    ("大病", CareTag::SeriousIllness),
    ("残疾", CareTag::Disability),
    ("精神", CareTag::MentalDisorder),
    ("困难", CareTag::Hardship),
    ("低保", CareTag::Hardship),
    ("低收入", CareTag::Hardship),
    ("志愿者", CareTag::CoreVolunteer),
];

pub(super) const RESIDENCY_WORDS: &[(&str, Residency)] = &[
    ("户籍", Residency::Registered),
    ("人户分离", Residency::LivingHere),
    ("来沪", Residency::Migrant),
    ("外来", Residency::Migrant),
    ("境外", Residency::Foreign),
    ("外籍", Residency::Foreign),
];

/// One problem with the sheet: its row (as the spreadsheet numbers it, the header being
/// row 1), its column, and the field-error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub code: &'static str,
}

/// What a check or an import found and did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub rows: usize,
    pub valid: usize,
    pub errors: Vec<RowError>,
    /// What was written (none for a dry run, or when errors stopped the import).
    pub written: Option<RosterCounts>,
}

/// How an import treats rows with errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Check only.
    DryRun,
    /// Write everything, or nothing if any row fails.
    AllOrNothing,
    /// Write the valid rows, report the rest.
    ValidRows,
}

/// The cells of a sheet, as text, first row the header. XLSX (the first sheet) or CSV in
/// UTF-8 or GB18030 (what Excel in Chinese saves).
pub fn read_table(file_name: &str, bytes: &[u8]) -> Result<Vec<Vec<String>>> {
    let bad = || Error::validation("file", "unreadable_file");
    if file_name.to_lowercase().ends_with(".csv") {
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t.trim_start_matches('\u{feff}').to_string(),
            Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        return rdr
            .records()
            .map(|r| {
                r.map(|r| r.iter().map(|c| c.trim().to_string()).collect())
                    .map_err(|_| bad())
            })
            .collect();
    }
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec()))
        .map_err(|_| bad())?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(bad)?
        .map_err(|_| bad())?;
    Ok(range
        .rows()
        .map(|row| row.iter().map(cell_text).collect())
        .collect())
}

fn cell_text(c: &calamine::Data) -> String {
    match c {
        calamine::Data::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
        other => other.to_string().trim().to_string(),
    }
}

/// Tags in a cell ("独居老人、低保"): each word or an error.
fn tags_of(cell: &str) -> Result<Vec<CareTag>, ()> {
    let mut out = Vec::new();
    for word in cell
        .split(['、', ',', '，', ';', '；', ' '])
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        match TAG_WORDS.iter().find(|(w, _)| word.contains(w)) {
            Some((_, t)) if !out.contains(t) => out.push(*t),
            Some(_) => {}
            None => return Err(()),
        }
    }
    Ok(out)
}

/// The buildings the caller may import into, by (estate, number): a secretary's
/// neighbourhood, the whole subdistrict for an admin.
async fn buildings(sv: &Services, who: &Caller) -> Result<HashMap<(String, String), BuildingId>> {
    if !who.actor.may_import_roster() {
        return Err(Error::Forbidden);
    }
    let scope = match (who.actor.role, who.actor.neighbourhood_id) {
        (Role::Secretary, Some(nb)) => Scope::Neighbourhood {
            subdistrict_id: who.actor.subdistrict_id,
            neighbourhood_id: nb,
        },
        _ => Scope::Subdistrict(who.actor.subdistrict_id),
    };
    Ok(crate::places::building_choices(sv, scope)
        .await?
        .into_iter()
        .map(|b| ((b.estate, b.number), BuildingId(b.id)))
        .collect())
}

/// What a row is checked against.
struct Context<'a> {
    /// Each column name's position in the sheet, found once (not per cell).
    columns: HashMap<&'static str, usize>,
    places: &'a HashMap<(String, String), BuildingId>,
    today: NaiveDate,
    since: NaiveDate,
    vault: &'a crate::vault::Vault,
}

impl Context<'_> {
    fn col(&self, name: &str) -> Option<usize> {
        self.columns.get(name).copied()
    }
}

/// Where each known column is in `header` (a leading `*` marks the required ones).
fn columns(header: &[String]) -> HashMap<&'static str, usize> {
    COLUMNS
        .iter()
        .filter_map(|(name, _)| {
            header
                .iter()
                .position(|h| h.trim().trim_start_matches('*') == *name)
                .map(|i| (*name, i))
        })
        .collect()
}

fn column_of(field: &str) -> &'static str {
    match field {
        "room" => "室号",
        "unit" => "单元",
        "name" => "姓名",
        "id_number" => "身份证号",
        "phone" => "联系电话",
        _ => "户籍情况",
    }
}

/// One row checked: the roster row, or its problems.
fn check_row(
    cx: &Context<'_>,
    line: usize,
    cells: &[String],
    ids_seen: &mut HashSet<String>,
) -> Result<RosterRow, Vec<RowError>> {
    let get = |n: &str| {
        cx.col(n)
            .and_then(|c| cells.get(c))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let err = |column: &str, code: &'static str| RowError {
        row: line,
        column: column.into(),
        code,
    };
    let mut errors = Vec::new();
    let building = cx.places.get(&(get("小区"), get("楼号"))).copied();
    if building.is_none() {
        errors.push(err("楼号", "unknown_building"));
    }
    let residency_cell = get("户籍情况");
    let residency = RESIDENCY_WORDS
        .iter()
        .find(|(w, _)| residency_cell.contains(w))
        .map(|(_, c)| c.code().to_string());
    let input = ResidentInput {
        building_id: building.or(Some(BuildingId(0))),
        unit: get("单元"),
        room: get("室号"),
        name: get("姓名"),
        id_number: Some(get("身份证号")),
        phone: Some(get("联系电话")),
        residency,
        ..Default::default()
    };
    let checked = check(&input, cx.today)
        .map_err(|fe| {
            errors.extend(fe.0.iter().map(|e| err(column_of(&e.field), e.code)));
        })
        .ok();
    let tags = tags_of(&get("关爱标签")).unwrap_or_else(|()| {
        errors.push(err("关爱标签", "unknown_tag"));
        Vec::new()
    });
    match checked.as_ref().and_then(|c| c.id_number.as_ref()) {
        None if errors.iter().all(|e| e.column != "身份证号") => {
            errors.push(err("身份证号", "required"))
        }
        Some(id) if !ids_seen.insert(id.as_str().to_string()) => {
            errors.push(err("身份证号", "duplicate_in_file"))
        }
        _ => {}
    }
    match checked {
        Some(c) if errors.is_empty() => Ok(RosterRow {
            building_id: c.building_id,
            unit: c.unit,
            room: c.room,
            name: c.name,
            sex: c.sex,
            birth_date: c.birth_date,
            id_number: c.id_number.as_ref().map(|id| seal(cx.vault, id.as_str())),
            phone: c.phone.as_deref().map(|p| seal(cx.vault, p)),
            residency: c.residency,
            tags: tags.iter().map(|t| t.code().to_string()).collect(),
            tags_since: cx.since,
        }),
        _ => Err(errors),
    }
}

/// The rows left once those of people still living in another neighbourhood are taken
/// out, each with its row error.
fn refuse_elsewhere(
    rows: Vec<RosterRow>,
    lines: Vec<usize>,
    elsewhere: &HashSet<String>,
    report: &mut Report,
) -> Vec<RosterRow> {
    if elsewhere.is_empty() {
        return rows;
    }
    let mut kept = Vec::new();
    for (row, line) in rows.into_iter().zip(lines) {
        if row
            .id_number
            .as_ref()
            .is_some_and(|s| elsewhere.contains(&s.lookup))
        {
            report.errors.push(RowError {
                row: line,
                column: "身份证号".into(),
                code: "registered_elsewhere",
            });
        } else {
            kept.push(row);
        }
    }
    report.errors.sort_by_key(|e| e.row);
    kept
}

/// Checks the sheet and, unless a dry run, imports it.
pub async fn import(
    sv: &Services,
    who: &Caller,
    table: &[Vec<String>],
    mode: Mode,
) -> Result<Report> {
    let places = buildings(sv, who).await?;
    let Some((header, body)) = table.split_first() else {
        return Err(Error::validation("file", "empty_file"));
    };
    let today = sv.now().date_naive();
    let cx = Context {
        columns: columns(header),
        places: &places,
        today,
        since: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(today),
        vault: sv.vault()?,
    };
    if COLUMNS.iter().any(|(n, req)| *req && cx.col(n).is_none()) {
        return Err(Error::validation("file", "missing_columns"));
    }
    let mut report = Report::default();
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    let mut ids_seen = HashSet::new();
    for (i, cells) in body.iter().enumerate() {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        report.rows += 1;
        match check_row(&cx, i + 2, cells, &mut ids_seen) {
            Ok(row) => {
                rows.push(row);
                lines.push(i + 2);
            }
            Err(errors) => report.errors.extend(errors),
        }
    }
    // Someone still living in another neighbourhood is not taken over by this roster.
    let elsewhere = sv
        .store
        .register()
        .registered_elsewhere(who.actor.subdistrict_id, &rows)
        .await?;
    let rows = refuse_elsewhere(rows, lines, &elsewhere, &mut report);
    report.valid = rows.len();
    let write = match mode {
        Mode::DryRun => false,
        Mode::AllOrNothing => report.errors.is_empty(),
        Mode::ValidRows => true,
    };
    if write && !rows.is_empty() {
        let ctx = sv.ctx(who);
        report.written = Some(
            sv.store
                .register()
                .import(who.actor.subdistrict_id, &rows, &ctx)
                .await?,
        );
    }
    Ok(report)
}

/// The template: the columns, a note on each, and one example row (invented).
pub fn template() -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("花名册").map_err(Error::internal)?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (i, (name, required)) in COLUMNS.iter().enumerate() {
        let title = if *required {
            format!("*{name}")
        } else {
            name.to_string()
        };
        ws.write_string_with_format(0, i as u16, &title, &bold)
            .map_err(Error::internal)?;
        ws.set_column_format(i as u16, &text)
            .map_err(Error::internal)?;
        ws.set_column_width(i as u16, if *name == "身份证号" { 22 } else { 12 })
            .map_err(Error::internal)?;
    }
    let example = [
        "牡丹路100弄",
        "1号",
        "1",
        "502",
        "王秀英（示例）",
        "11010519491231002X",
        "13800138000",
        "户籍",
        "独居老人、低保",
    ];
    for (i, v) in example.iter().enumerate() {
        ws.write_string_with_format(1, i as u16, *v, &text)
            .map_err(Error::internal)?;
    }
    wb.save_to_buffer().map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_sheets_are_read_as_committees_write_them() {
        assert_eq!(
            tags_of("独居老人、低保").unwrap(),
            vec![CareTag::ElderlyAlone, CareTag::Hardship]
        );
        assert_eq!(tags_of("").unwrap(), vec![]);
        assert!(tags_of("退休干部").is_err());
        // GB18030 CSV, as Excel in Chinese saves it.
        let (gbk, _, _) = encoding_rs::GB18030.encode("小区,楼号\n牡丹路100弄,1号\n");
        let t = read_table("花名册.csv", &gbk).unwrap();
        assert_eq!(t[1], vec!["牡丹路100弄", "1号"]);
        // The template reads back with its headers.
        let t = read_table("template.xlsx", &template().unwrap()).unwrap();
        assert_eq!(t[0][0], "*小区");
        assert_eq!(t[1][5], "11010519491231002X");
    }
}

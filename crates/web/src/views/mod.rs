//! View models shared by the pages: form fields, tables, pagers, value display. Built in
//! Rust (where translations are looked up) so templates stay simple.

mod forms;
pub(crate) mod map;
mod tables;

pub use forms::{FormField, RefOptions, SelectOption, choice_options, form_fields, raw_values};
pub use tables::{Badge, Cell, Header, Row, Table, badges, display, records_table};

use serde::Serialize;

/// A workbook to download as `file` (never kept by a browser cache or a proxy: exports
/// carry people's data).
pub fn xlsx_download(bytes: Vec<u8>, file: &'static str) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn ref_href(table: &str, id: i64) -> String {
    format!("/{table}/{id}")
}

/// A count of people as shown: whole, never "-0" (an empty float sum is -0.0).
pub fn people(x: f64) -> String {
    format!("{:.0}", x.max(0.0) + 0.0)
}

/// A number without trailing zeros (`30`, `25.5`, `31.208512`).
pub fn format_num(f: f64) -> String {
    let s = format!("{f:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
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
        // A page past the end shows nothing: say so (0–0) and link back to the last page.
        let last = ((total - 1).max(0) / limit.max(1)) + 1;
        Pager {
            total,
            from: if shown == 0 { 0 } else { offset + 1 },
            to: if shown == 0 { 0 } else { offset + shown as i64 },
            prev: (page > 1).then(|| link(page.min(last + 1) - 1)),
            next: (offset + (shown as i64) < total && shown > 0).then(|| link(page + 1)),
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

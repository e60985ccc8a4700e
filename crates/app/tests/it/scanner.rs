//! The leak scanner: every test server is reached through a proxy that reads every
//! response body the suite receives (HTML, JSON, CSV, iCalendar, workbooks…) and records
//! any full mobile number or valid ID number in it (GB 11643 checksum and a real birth
//! date, so other long numbers do not count). The reveal responses — the one place a
//! full value may leave, after the audited reveal — and the audited full export are the
//! only bodies allowed to hold them. A test server with a finding fails when it stops.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What the proxy found, shared with its test.
#[derive(Debug, Default)]
pub struct Findings {
    pub scanned: AtomicUsize,
    pub leaks: Mutex<Vec<String>>,
}

struct Proxy {
    target: String,
    client: reqwest::Client,
    findings: Arc<Findings>,
}

/// Starts the proxy in front of `target` (`http://host:port`); answers its base URL.
pub async fn start(target: String, findings: Arc<Findings>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("proxy port");
    let addr = listener.local_addr().expect("proxy address");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("proxy client");
    let proxy = Arc::new(Proxy {
        target,
        client,
        findings,
    });
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    format!("http://{addr}")
}

const HOP_BY_HOP: [header::HeaderName; 4] = [
    header::CONNECTION,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

fn copy_headers(from: &HeaderMap) -> HeaderMap {
    let mut to = from.clone();
    for h in HOP_BY_HOP {
        to.remove(h);
    }
    to
}

async fn forward(State(p): State<Arc<Proxy>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(sent) = to_bytes(body, usize::MAX).await else {
        return status(StatusCode::BAD_REQUEST);
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let answer = p
        .client
        .request(parts.method.clone(), format!("{}{path}", p.target))
        .headers(copy_headers(&parts.headers))
        .body(sent)
        .send()
        .await;
    let Ok(answer) = answer else {
        return status(StatusCode::BAD_GATEWAY);
    };
    let (code, headers) = (answer.status(), copy_headers(answer.headers()));
    let Ok(got) = answer.bytes().await else {
        return status(StatusCode::BAD_GATEWAY);
    };
    p.findings.scanned.fetch_add(1, Ordering::Relaxed);
    if !may_hold_full_values(&parts.method, parts.uri.path()) {
        let workbook = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("spreadsheetml"));
        let found = if workbook {
            leaks(cells(&got).as_bytes())
        } else {
            leaks(&got)
        };
        if !found.is_empty() {
            let line = format!("{} {path} → {code}: {}", parts.method, found.join(", "));
            eprintln!("LEAK {line}");
            p.findings.leaks.lock().expect("findings").push(line);
        }
    }
    let mut out = Response::new(Body::from(got));
    *out.status_mut() = code;
    *out.headers_mut() = headers;
    out
}

fn status(code: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = code;
    r
}

/// Every cell of every sheet of a workbook, one per line (a workbook is compressed: its
/// bytes say nothing until read).
fn cells(xlsx: &[u8]) -> String {
    use calamine::Reader;
    let Ok(mut wb) = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(xlsx.to_vec()))
    else {
        return "unreadable workbook".into();
    };
    let mut out = String::new();
    for (_, range) in wb.worksheets() {
        for row in range.rows() {
            for c in row {
                out.push_str(&c.to_string());
                out.push('\n');
            }
        }
    }
    out
}

/// The reveal (page and API) and the secretary's audited full export; and the roster
/// template, whose example row is GB 11643's own example number and China Mobile's
/// service line, fixed text rather than anyone's data.
fn may_hold_full_values(method: &Method, path: &str) -> bool {
    (method == Method::POST && (path.ends_with("/reveal") || path == "/care/export.xlsx"))
        || (method == Method::GET && path == "/care/import/template.xlsx")
}

/// Full mobile numbers and valid ID numbers in `body`, each masked in the finding.
pub fn leaks(body: &[u8]) -> Vec<String> {
    let today = chrono::NaiveDate::from_ymd_opt(2100, 1, 1).expect("date");
    let mut out = Vec::new();
    let mut i = 0;
    while i < body.len() {
        if !body[i].is_ascii_digit() || (i > 0 && body[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let start = i;
        while i < body.len() && body[i].is_ascii_digit() {
            i += 1;
        }
        let mut end = i;
        if end - start == 17 && matches!(body.get(end), Some(b'X' | b'x')) {
            end += 1;
        }
        if body.get(end).is_some_and(|b| b.is_ascii_alphanumeric()) {
            i = end;
            continue;
        }
        let run = std::str::from_utf8(&body[start..end]).unwrap_or_default();
        let mobile =
            run.len() == 11 && run.starts_with('1') && (b'3'..=b'9').contains(&run.as_bytes()[1]);
        let id = run.len() == 18 && doorstep_domain::people::IdNumber::parse(run, today).is_ok();
        if mobile || id {
            out.push(doorstep_domain::mask::mask_id_number(run));
        }
        i = end;
    }
    out
}

#[test]
fn the_scanner_finds_full_numbers_and_nothing_else() {
    assert_eq!(leaks(b"<td>13812345678</td>").len(), 1);
    assert_eq!(leaks("电话13812345678。".as_bytes()).len(), 1);
    assert_eq!(leaks(b"{\"id\":\"11010519491231002X\"}").len(), 1);
    assert!(leaks(b"138****5678 110***********002X").is_empty());
    // Longer numbers, tokens and invalid checksums are not phones or ID numbers.
    assert!(leaks(b"1701234567890 a13812345678 13812345678b 12345678901").is_empty());
    assert!(leaks(b"110105194912310021").is_empty());
}

#[test]
fn the_scanner_reads_inside_workbooks() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "13812345678").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    assert!(leaks(&bytes).is_empty(), "compressed: the bytes hide it");
    assert_eq!(leaks(cells(&bytes).as_bytes()).len(), 1);
}

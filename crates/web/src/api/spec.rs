//! The OpenAPI 3.1 document, generated from the operation table and the field
//! descriptions (the same ones that route requests and validate bodies).

use super::{OpKind, ops};
use doorstep_domain::accounts::ACCOUNT_FIELDS;
use doorstep_domain::{Entity, FieldKind, FieldSpec};
use serde_json::{Map, Value, json};

fn title_case(s: &str) -> String {
    s.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn field_schema(f: &FieldSpec) -> Value {
    match f.kind {
        // No control characters (422 invalid_characters); line breaks and tabs only in
        // fields that span lines.
        FieldKind::Text { max, multiline } => json!({"type": "string", "maxLength": max,
            "pattern": if multiline { r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$" } else { r"^[^\u0000-\u001F\u007F-\u009F]*$" }}),
        FieldKind::Phone => {
            json!({"type": "string", "maxLength": 24, "pattern": doorstep_domain::fields::CN_PHONE_PATTERN,
                "description": "a dialable Chinese number: a mobile (11 digits), a landline with or without its area code, or either from abroad with +86; spaces, brackets and dashes between digits"})
        }
        FieldKind::Int { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        FieldKind::Float { min, max } => json!({"type": "number", "minimum": min, "maximum": max}),
        FieldKind::Bool => json!({"type": "boolean"}),
        FieldKind::Choice(c) => json!({"type": "string", "enum": c}),
        FieldKind::Ref(t) => {
            json!({"type": "integer", "minimum": 1, "description": format!("id of a record in {t}")})
        }
    }
}

/// The body of a move: one object per move, with the fields that move requires.
fn move_schema() -> Value {
    use doorstep_domain::requests::{
        FollowUpChannel, MAX_EXTRA_DAYS, MAX_HANDLER_NAME_CHARS, MAX_NOTE_CHARS, MAX_REASON_CHARS,
        MAX_REPLY_CHARS, ReturnReason, Satisfaction,
    };
    let text = |max: usize, what: &str| json!({"type": "string", "minLength": 1, "maxLength": max, "description": what});
    let rating = json!({"type": "string", "enum": Satisfaction::CODES});
    let handler = json!({"oneOf": [
        {"type": "object", "required": ["kind", "id"], "properties": {"kind": {"const": "worker"}, "id": {"type": "integer", "minimum": 1}}},
        {"type": "object", "required": ["kind", "id"], "properties": {"kind": {"enum": ["post", "partner"]}, "id": text(MAX_HANDLER_NAME_CHARS, "the post's or partner unit's name; one line")}},
    ]});
    let one = |name: &str, required: &[&str], props: Value| {
        let mut p = json!({
            "version": {"type": "integer", "description": "the version the move is based on; a stale one is a 409"},
            "move": {"const": name},
        });
        for (k, v) in props.as_object().into_iter().flatten() {
            p[k] = v.clone();
        }
        let mut req = vec!["version", "move"];
        req.extend_from_slice(required);
        json!({"type": "object", "title": name, "required": req, "properties": p, "additionalProperties": false})
    };
    json!({"oneOf": [
        one("resolve_on_spot", &["reply"], json!({"reply": text(MAX_REPLY_CHARS, "shown to the resident; line breaks allowed")})),
        one("assign", &["to"], json!({"to": handler})),
        one("accept", &[], json!({})),
        one("return", &["reason", "note"], json!({"reason": {"type": "string", "enum": ReturnReason::CODES}, "note": text(MAX_NOTE_CHARS, "line breaks allowed")})),
        one("start", &[], json!({})),
        one("resolve", &["reply"], json!({"reply": text(MAX_REPLY_CHARS, "shown to the resident; line breaks allowed")})),
        one("follow_up", &["efficiency", "attitude", "result"], json!({"efficiency": rating, "attitude": rating, "result": rating, "channel": {"type": "string", "enum": FollowUpChannel::CODES, "default": "web"}})),
        one("close", &[], json!({})),
        one("request_extension", &["days", "reason"], json!({"days": {"type": "integer", "minimum": 1, "maximum": MAX_EXTRA_DAYS}, "reason": text(MAX_REASON_CHARS, "one line")})),
        one("decide_extension", &["approve"], json!({"approve": {"type": "boolean"}})),
        one("escalate", &[], json!({})),
        one("merge", &["into"], json!({"into": {"type": "integer", "minimum": 1, "description": "the open request that carries on"}})),
    ]})
}

/// The password policy as the server checks it (`doorstep_domain::accounts::check_password`).
fn password_schema(what: &str) -> Value {
    json!({"type": "string", "minLength": 10, "maxLength": 128, "description": format!(
        "{what}. 10 to 128 characters, not containing the user name, not one character repeated (422 password_too_short, password_too_long, password_contains_username, password_too_simple)"
    )})
}

/// A request as the API answers it (contacts masked).
fn request_schema() -> Value {
    use doorstep_domain::requests::{Channel, Kind, State};
    let opt = |t: &str| json!({"type": [t, "null"]});
    json!({"type": "object", "required": ["id", "tracking_code", "state", "kind", "channel", "version"], "properties": {
        "id": {"type": "integer"}, "subdistrict_id": {"type": "integer"}, "neighbourhood_id": {"type": "integer"},
        "tracking_code": {"type": "string", "description": "the resident's key to the tracking page"},
        "state": {"type": "string", "enum": State::CODES},
        "kind": {"type": "string", "enum": Kind::CODES},
        "channel": {"type": "string", "enum": Channel::CODES},
        "service_item_id": opt("integer"), "building_id": opt("integer"),
        "description": {"type": "string"}, "public_description": {"type": "boolean"},
        "lat": opt("number"), "lon": opt("number"), "address": opt("string"),
        "resident_name": {"type": ["string", "null"], "description": "masked"},
        "resident_phone": {"type": ["string", "null"], "description": "masked; the full number only through the audited reveal"},
        "resident_email": {"type": ["string", "null"], "description": "masked"},
        "owner_id": {"type": "integer"},
        "deadline_at": {"type": "string", "format": "date-time"},
        "version": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
    }})
}

fn nullable(mut s: Value) -> Value {
    if let Some(t) = s.get("type").cloned() {
        s["type"] = json!([t, "null"]);
    }
    s
}

fn input_schemas(fields: &[FieldSpec], patch: bool) -> Value {
    let mut props = Map::new();
    for f in fields.iter().filter(|f| !patch || f.editable) {
        props.insert(
            f.name.into(),
            if f.required {
                field_schema(f)
            } else {
                nullable(field_schema(f))
            },
        );
    }
    let mut s = json!({"type": "object", "additionalProperties": false, "properties": props});
    if patch {
        s["properties"]["version"] = json!({"type": "integer", "description": "the version the change is based on: required (428 without it); a stale one is a 409. A change that changes nothing keeps the version"});
        s["required"] = json!(["version"]);
    } else {
        let required: Vec<&str> = fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        s["required"] = json!(required);
    }
    s
}

fn record_schema(e: Entity) -> Value {
    let mut props = Map::new();
    props.insert("id".into(), json!({"type": "integer"}));
    props.insert("subdistrict_id".into(), json!({"type": "integer"}));
    if e.in_neighbourhood() {
        props.insert("neighbourhood_id".into(), json!({"type": "integer"}));
    }
    for f in e.fields() {
        props.insert(f.name.into(), nullable(field_schema(f)));
    }
    props.insert(
        "is_demo".into(),
        json!({"type": "boolean", "description": "invented by `doorstep demo`"}),
    );
    props.insert("version".into(), json!({"type": "integer"}));
    props.insert(
        "archived_at".into(),
        json!({"type": ["string", "null"], "format": "date-time"}),
    );
    props.insert(
        "created_at".into(),
        json!({"type": "string", "format": "date-time"}),
    );
    props.insert(
        "updated_at".into(),
        json!({"type": "string", "format": "date-time"}),
    );
    json!({"type": "object", "properties": props})
}

fn account_schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "subdistrict_id": {"type": "integer"},
        "neighbourhood_id": {"type": ["integer", "null"]}, "username": {"type": "string"},
        "display_name": {"type": "string"},
        "role": {"type": "string", "enum": ["admin", "secretary", "worker", "partner", "volunteer"]},
        "partner_unit": {"type": ["string", "null"]}, "phone": {"type": ["string", "null"]},
        "locale": {"type": "string"}, "disabled": {"type": "boolean"}, "has_password": {"type": "boolean"},
        "is_demo": {"type": "boolean"}, "version": {"type": "integer"},
        "last_login_at": {"type": ["string", "null"], "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}
    }})
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn error_responses(codes: &[u16]) -> Map<String, Value> {
    let text = |c: u16| match c {
        400 => "malformed body or query",
        401 => "not signed in (no session cookie or bearer token)",
        403 => "outside the caller's role or scope",
        404 => "no such record (or in another subdistrict)",
        409 => "duplicate, stale version, or still in use",
        428 => "a change without the `version` it is based on",
        413 => "body over the server's limit (`max_body_bytes`)",
        422 => "invalid fields (see `fields`)",
        503 => "database unreachable",
        _ => "error",
    };
    codes
        .iter()
        .map(|c| {
            (
                c.to_string(),
                json!({"description": text(*c), "content": content(r("Error"))}),
            )
        })
        .collect()
}

fn id_param() -> Value {
    json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}})
}

fn query(name: &str, schema: Value, desc: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": desc})
}

fn paging_params() -> Vec<Value> {
    vec![
        query(
            "page",
            json!({"type": "integer", "minimum": 1}),
            "1-based page number",
        ),
        query(
            "per_page",
            json!({"type": "integer", "minimum": 1, "maximum": 200}),
            "page size (default 50)",
        ),
    ]
}

/// The whole document.
pub fn openapi() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    let mut schemas: Map<String, Value> = Map::new();
    schemas.insert("Error".into(), json!({
        "type": "object", "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "stable snake_case code"},
            "message": {"type": "string", "description": "in the caller's language (Accept-Language: zh-CN or en)"},
            "fields": {"type": "object", "additionalProperties": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
            "current_version": {"type": "integer"}
        }
    }));
    schemas.insert("Account".into(), account_schema());
    schemas.insert("AccountInput".into(), {
        let mut s = input_schemas(ACCOUNT_FIELDS, false);
        s["properties"]["password"] =
            password_schema("optional: without one the account cannot sign in yet");
        s
    });
    schemas.insert("AccountPatch".into(), input_schemas(ACCOUNT_FIELDS, true));
    schemas.insert("Request".into(), request_schema());
    schemas.insert("Booking".into(), json!({"type": "object", "required": ["id", "room_id", "starts_at", "ends_at", "purpose", "state", "version"], "properties": {
        "id": {"type": "integer"}, "room_id": {"type": "integer"}, "station_id": {"type": "integer"},
        "neighbourhood_id": {"type": "integer"}, "subdistrict_id": {"type": "integer"},
        "series_id": {"type": ["integer", "null"], "description": "the repeating series it belongs to"},
        "starts_at": {"type": "string", "format": "date-time"}, "ends_at": {"type": "string", "format": "date-time", "description": "excluded: a booking may start when another ends"},
        "purpose": {"type": "string"}, "attendance": {"type": ["integer", "null"]},
        "booked_by": {"type": ["integer", "null"]}, "for_whom": {"type": ["string", "null"]},
        "state": {"type": "string", "enum": doorstep_domain::bookings::BookingState::CODES},
        "version": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"}
    }}));
    for &e in Entity::ALL {
        let n = title_case(e.code());
        schemas.insert(n.clone(), record_schema(e));
        schemas.insert(format!("{n}Input"), input_schemas(e.fields(), false));
        schemas.insert(format!("{n}Patch"), input_schemas(e.fields(), true));
        schemas.insert(
            format!("{n}Page"),
            json!({"type": "object", "properties": {
            "items": {"type": "array", "items": r(&n)}, "total": {"type": "integer"},
            "page": {"type": "integer"}, "per_page": {"type": "integer"}}}),
        );
    }
    schemas.insert(
        "AccountPage".into(),
        json!({"type": "object", "properties": {
        "items": {"type": "array", "items": r("Account")}, "total": {"type": "integer"},
        "page": {"type": "integer"}, "per_page": {"type": "integer"}}}),
    );

    for op in ops() {
        let method = op.method.as_str().to_lowercase();
        let (op_id, summary, tag, params, body, ok_status, ok): (
            String,
            String,
            String,
            Vec<Value>,
            Option<Value>,
            u16,
            Value,
        ) = match op.kind {
            OpKind::ListPlaces(e) => {
                let n = title_case(e.code());
                let mut params = paging_params();
                params.push(query(
                    "q",
                    json!({"type": "string"}),
                    &format!("matches the {} (case-insensitive)", e.title_field()),
                ));
                params.push(query(
                    "archived",
                    json!({"type": "boolean"}),
                    "include archived records",
                ));
                for f in e.fields() {
                    if let FieldKind::Ref(t) = f.kind {
                        params.push(query(
                            f.name,
                            json!({"type": "integer"}),
                            &format!("only records under this {t} id"),
                        ));
                    }
                }
                if e.in_neighbourhood() && e.field("neighbourhood_id").is_none() {
                    params.push(query(
                        "neighbourhood_id",
                        json!({"type": "integer"}),
                        "only records in this neighbourhood",
                    ));
                }
                (
                    format!("list_{}", e.table()),
                    format!("List {} in the caller's scope", e.table()),
                    e.table().into(),
                    params,
                    None,
                    200,
                    r(&format!("{n}Page")),
                )
            }
            OpKind::GetPlace(e) => (
                format!("get_{}", e.code()),
                format!("Get one {}", e.code()),
                e.table().into(),
                vec![id_param()],
                None,
                200,
                r(&title_case(e.code())),
            ),
            OpKind::CreatePlace(e) => {
                let n = title_case(e.code());
                (
                    format!("create_{}", e.code()),
                    format!("Create a {}", e.code()),
                    e.table().into(),
                    vec![],
                    Some(r(&format!("{n}Input"))),
                    201,
                    r(&n),
                )
            }
            OpKind::UpdatePlace(e) => {
                let n = title_case(e.code());
                (
                    format!("update_{}", e.code()),
                    format!(
                        "Change fields of a {} (absent fields keep their values)",
                        e.code()
                    ),
                    e.table().into(),
                    vec![id_param()],
                    Some(r(&format!("{n}Patch"))),
                    200,
                    r(&n),
                )
            }
            OpKind::ArchivePlace(e) | OpKind::RestorePlace(e) => {
                let verb = if matches!(op.kind, OpKind::ArchivePlace(_)) {
                    "archive"
                } else {
                    "restore"
                };
                let body =
                    json!({"type": "object", "properties": {"version": {"type": "integer"}}});
                (
                    format!("{verb}_{}", e.code()),
                    format!("{} a {}", title_case(verb), e.code()),
                    e.table().into(),
                    vec![id_param()],
                    Some(body),
                    200,
                    r(&title_case(e.code())),
                )
            }
            OpKind::ListAccounts => {
                let mut params = paging_params();
                params.push(query(
                    "q",
                    json!({"type": "string"}),
                    "matches user name or display name",
                ));
                params.push(query("role", json!({"type": "string"}), "only this role"));
                params.push(query(
                    "neighbourhood_id",
                    json!({"type": "integer"}),
                    "only this neighbourhood",
                ));
                (
                    "list_accounts".into(),
                    "List staff accounts (admins: all; secretaries: their neighbourhood)".into(),
                    "accounts".into(),
                    params,
                    None,
                    200,
                    r("AccountPage"),
                )
            }
            OpKind::GetAccount => (
                "get_account".into(),
                "Get one account".into(),
                "accounts".into(),
                vec![id_param()],
                None,
                200,
                r("Account"),
            ),
            OpKind::CreateAccount => (
                "create_account".into(),
                "Create an account (admins)".into(),
                "accounts".into(),
                vec![],
                Some(r("AccountInput")),
                201,
                r("Account"),
            ),
            OpKind::UpdateAccount => (
                "update_account".into(),
                "Change an account (admins)".into(),
                "accounts".into(),
                vec![id_param()],
                Some(r("AccountPatch")),
                200,
                r("Account"),
            ),
            OpKind::SetAccountPassword => {
                let body = json!({"type": "object", "required": ["password"], "properties": {"password": password_schema("the new password")}});
                (
                    "set_account_password".into(),
                    "Set an account's password and end its sessions (admins)".into(),
                    "accounts".into(),
                    vec![id_param()],
                    Some(body),
                    204,
                    Value::Null,
                )
            }
            OpKind::Me => (
                "get_me".into(),
                "The signed-in account".into(),
                "accounts".into(),
                vec![],
                None,
                200,
                json!({"type": "object", "properties": {"account": r("Account"), "lang": {"type": "string"}}}),
            ),
            OpKind::PlaceStats => (
                "get_place_stats".into(),
                "Counts of places and office vs service area per station, in the caller's scope"
                    .into(),
                "stats".into(),
                vec![query(
                    "neighbourhood_id",
                    json!({"type": "integer"}),
                    "one neighbourhood",
                )],
                None,
                200,
                json!({"type": "object"}),
            ),
            OpKind::CatalogueSearch => (
                "search_catalogue".into(),
                "Search the service catalogue in the resident's words (Chinese full-text, best first)".into(),
                "catalogue".into(),
                vec![
                    query("q", json!({"type": "string"}), "what the resident said; empty lists the catalogue"),
                    query("category", json!({"type": "string", "enum": doorstep_domain::catalogue::Category::CODES}), "one category"),
                    query("limit", json!({"type": "integer", "minimum": 1, "maximum": 100}), "at most this many (default 10)"),
                ],
                None,
                200,
                json!({"type": "object"}),
            ),
            OpKind::ListRequests => {
                let mut params = paging_params();
                params.push(query("box", json!({"type": "string", "enum": doorstep_domain::requests::Inbox::CODES}), "which requests (default open); workers see those they own or handle, and their neighbourhood's new resident reports"));
                params.push(query("state", json!({"type": "string", "enum": doorstep_domain::requests::State::CODES}), "one workflow state"));
                params.push(query("q", json!({"type": "string"}), "a tracking code (exact) or words of the description"));
                params.push(query("sort", json!({"type": "string", "enum": ["newest", "deadline"]}), "newest first (default) or soonest deadline first"));
                params.push(query("neighbourhood_id", json!({"type": "integer"}), "one neighbourhood (admins)"));
                ("list_requests".into(), "The inbox: requests in the caller's scope, newest first (resident contacts masked)".into(), "requests".into(), params, None, 200, json!({"type": "object"}))
            }
            OpKind::CreateRequest => {
                let mut s = input_schemas(doorstep_services::requests::REQUEST_FIELDS, false);
                s["description"] = json!("channel: desk, phone or visit (web and Open311 are the residents' own); kind: consultation, help, complaint, report, suggestion, praise");
                ("create_request".into(), "One-window intake: the caller becomes the request's owner; the deadline counts working days".into(), "requests".into(), vec![], Some(s), 201, r("Request"))
            }
            OpKind::GetRequest => ("get_request".into(), "A request with its timeline".into(), "requests".into(), vec![id_param()], None, 200, json!({"allOf": [r("Request"), {"type": "object", "required": ["timeline"], "properties": {"timeline": {"type": "array", "items": {"type": "object"}}}}]})),
            OpKind::MoveRequest => {
                let body = move_schema();
                ("move_request".into(), "A workflow move (assign, accept, return, start, resolve, follow_up…); illegal moves are a 409. A follow_up notes its channel (phone or visit) and is taken by someone other than who resolved it".into(), "requests".into(), vec![id_param()], Some(body), 200, r("Request"))
            }
            OpKind::RevealContact => {
                let body = json!({"type": "object", "required": ["field", "reason"], "properties": {
                    "field": {"type": "string", "enum": ["resident_phone"]},
                    "reason": {"type": "string", "enum": doorstep_domain::audit::RevealReason::CODES}
                }, "additionalProperties": false});
                ("reveal_contact".into(), "The resident's phone unmasked, for the request's owner, handler or secretary only (403 for anyone else); every reveal is in the audit log with its reason".into(), "requests".into(), vec![id_param()], Some(body), 200, json!({"type": "object", "properties": {"field": {"type": "string"}, "value": {"type": "string"}}}))
            }
            OpKind::RequestDuplicates => {
                let params = vec![
                    query("description", json!({"type": "string"}), "the resident's words"),
                    query("building_id", json!({"type": "integer"}), "the building (or give lat and lon)"),
                    query("lat", json!({"type": "number"}), "latitude (WGS 84)"),
                    query("lon", json!({"type": "number"}), "longitude (WGS 84)"),
                    query("service_item_id", json!({"type": "integer"}), "the catalogue item, if chosen"),
                    query("neighbourhood_id", json!({"type": "integer"}), "the neighbourhood (admins; staff always their own)"),
                    query("exclude", json!({"type": "integer"}), "a request to leave out (the one being viewed)"),
                ];
                ("find_duplicate_requests".into(), "Likely duplicates: open requests of the last 14 days at the same building or within 50 m, in similar words (best first, at most 5)".into(), "requests".into(), params, None, 200, json!({"type": "object"}))
            }
            OpKind::RequestFigures => {
                let params = vec![
                    query("neighbourhood_id", json!({"type": "integer"}), "one neighbourhood (admins; staff always their own)"),
                    query("from", json!({"type": "string", "format": "date"}), "first day (Shanghai), default 29 days before `to`"),
                    query("to", json!({"type": "string", "format": "date"}), "last day (Shanghai), default today; `from` not after `to`, and the period shorter than three years (422 invalid_period)"),
                ];
                ("get_request_figures".into(), "Figures of requests received in a period: volume by kind and category, on-time, on-the-spot, resolution and satisfaction rates, median hours to resolve; overall and per neighbourhood".into(), "requests".into(), params, None, 200, json!({"type": "object"}))
            }
            OpKind::AddAttachment => {
                let body = json!({"type": "string", "format": "binary", "description": "a JPEG, PNG or WebP image of at most 5 MiB and 10,000 pixels on its longer side, checked by its bytes and decoded (422 image_unreadable / image_too_large otherwise); at most 3 per request. A fresh copy is stored: no metadata (EXIF, GPS), upright, at most 2,560 pixels on its longer side, PNG when it has transparency and JPEG otherwise"});
                ("add_request_attachment".into(), "Attach an image to a request".into(), "requests".into(), vec![id_param()], Some(body), 201, json!({"type": "object"}))
            }
            OpKind::GetAttachment => {
                let params = vec![id_param(), json!({"name": "attachment_id", "in": "path", "required": true, "schema": {"type": "integer"}})];
                ("get_request_attachment".into(), "An image of a request, as stored (image/jpeg or image/png; each view is audited)".into(), "requests".into(), params, None, 200, json!({"type": "string", "format": "binary"}))
            }
            OpKind::CircleSummary => (
                "get_circle".into(),
                "The 15-minute circle: the network, facility counts, and residents' coverage per neighbourhood and category".into(),
                "circle".into(),
                vec![],
                None,
                200,
                json!({"type": "object"}),
            ),
            OpKind::CircleBuildings | OpKind::CircleGeojson | OpKind::CircleSites | OpKind::CircleXlsx => {
                let mut params = vec![
                    query("category", json!({"type": "string", "enum": doorstep_geo::Category::ALL.iter().map(|c| c.code()).collect::<Vec<_>>()}), "service category (default market)"),
                    query("minutes", json!({"type": "number", "minimum": 1, "maximum": 60}), "walking limit (default: the category's guideline, 5/10/15)"),
                    query("neighbourhood_id", json!({"type": "integer"}), "one neighbourhood"),
                ];
                let (id, summary, schema) = match op.kind {
                    OpKind::CircleBuildings => {
                        params.push(query("outside", json!({"type": "boolean"}), "only buildings outside the limit"));
                        ("list_circle_buildings", "Every building's walking minutes to the nearest facility of each category, and facilities within 5/10/15 minutes", json!({"type": "object"}))
                    }
                    OpKind::CircleGeojson => {
                        params.push(query("k", json!({"type": "integer", "minimum": 0, "maximum": 20}), "also include k suggested sites"));
                        ("get_circle_geojson", "Buildings with their walking minutes as a GeoJSON FeatureCollection (RFC 7946)", json!({"type": "object"}))
                    }
                    OpKind::CircleSites => {
                        params.push(query("k", json!({"type": "integer", "minimum": 1, "maximum": 20}), "how many sites (default 3)"));
                        params.push(query("candidate_buildings", json!({"type": "string"}), "comma-separated building ids to choose among (default: every network node)"));
                        ("get_circle_sites", "Where new facilities would cover the most uncovered residents (greedy maximum coverage, with each pick's marginal gain)", json!({"type": "object"}))
                    }
                    _ => ("get_circle_xlsx", "Coverage per neighbourhood and every building's walking minutes as an XLSX workbook", json!({"type": "string", "format": "binary"})),
                };
                (id.into(), summary.into(), "circle".into(), params, None, 200, schema)
            }
            OpKind::LogVisit => {
                let body = json!({"type": "object", "required": ["household_id", "kind", "client_key"], "properties": {
                    "household_id": {"type": "integer"},
                    "kind": {"type": "string", "enum": doorstep_domain::people::VisitKind::CODES},
                    "met": {"type": "string", "maxLength": 100},
                    "notes": {"type": "string", "maxLength": 2000},
                    "finding": {"type": "string", "maxLength": 2000, "description": "what residents said that needs doing: it becomes a request owned by the visiting worker"},
                    "visited_at": {"type": "string", "format": "date-time", "description": "when, for a visit kept on the phone offline (a time to come is taken as now; more than 30 days back is refused, code too_old)"},
                    "client_key": {"type": "string", "minLength": 8, "maxLength": 64, "pattern": "^[A-Za-z0-9-]+$", "description": "made on the phone; a resend with the same key answers 200 with the first visit instead of making another"}
                }, "additionalProperties": false});
                ("log_visit".into(), "A door-to-door visit to a household of the caller's block (201); a resend with the same client_key is 200 with the first visit".into(), "care".into(), vec![], Some(body), 201, json!({"type": "object"}))
            }
            OpKind::CreateBooking => {
                let d = json!({"type": "string", "format": "date"});
                let t = json!({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "HH:MM, Shanghai"});
                let body = json!({"type": "object", "required": ["room_id", "date", "start", "end", "purpose"], "properties": {
                    "room_id": {"type": "integer", "minimum": 1},
                    "date": d, "start": t, "end": t,
                    "purpose": {"type": "string", "minLength": 1, "maxLength": doorstep_domain::bookings::MAX_PURPOSE_CHARS, "pattern": r"^[^\u0000-\u001F\u007F-\u009F]*$"},
                    "attendance": {"type": "integer", "minimum": 1, "maximum": 10000, "description": "expected; at most the room's capacity (422 over_capacity)"},
                    "for_whom": {"type": "string", "maxLength": 100, "pattern": r"^[^\u0000-\u001F\u007F-\u009F]*$", "description": "the team, partner or class it is for"},
                    "repeat": {"type": "string", "enum": doorstep_domain::bookings::Repeat::CODES, "description": "weekly, biweekly, or monthly on the same weekday of the same week of the month"},
                    "until": {"type": "string", "format": "date", "description": "with repeat: the last date, at most 366 days after date"},
                    "except": {"type": "array", "items": {"type": "string", "format": "date"}, "description": "dates of the series left out"}
                }, "additionalProperties": false});
                ("create_booking".into(), "Book a station room once or repeating (staff of its neighbourhood; admins anywhere). Every occurrence or none: 409 booking_overlap names the booking in the way (`conflict`)".into(), "bookings".into(), vec![], Some(body), 201, json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": r("Booking")}}}))
            }
            OpKind::RoomBookings => {
                let params = vec![
                    id_param(),
                    query("from", json!({"type": "string", "format": "date"}), "first day (Shanghai), default today"),
                    query("to", json!({"type": "string", "format": "date"}), "last day, default four weeks on; at most 92 days after `from` (422 invalid_period)"),
                ];
                ("list_room_bookings".into(), "What holds a room (pending and confirmed bookings), in time order".into(), "bookings".into(), params, None, 200, json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": r("Booking")}}}))
            }
            OpKind::SetBookingState => {
                let body = json!({"type": "object", "required": ["version", "state"], "properties": {
                    "version": {"type": "integer", "description": "the version it is based on (428 without it, 409 when stale)"},
                    "state": {"type": "string", "enum": ["confirmed", "rejected", "cancelled"], "description": "a pending booking is approved (confirmed), rejected or cancelled; a confirmed one cancelled (409 illegal_move otherwise)"}
                }, "additionalProperties": false});
                ("set_booking_state".into(), "Approve, reject or cancel a booking".into(), "bookings".into(), vec![id_param()], Some(body), 200, r("Booking"))
            }
            OpKind::Health => (
                "health".into(),
                "Liveness and database reachability (no sign-in needed)".into(),
                "system".into(),
                vec![],
                None,
                200,
                json!({"type": "object", "properties": {"status": {"type": "string"}, "backend": {"type": "string"}}}),
            ),
        };
        let mut responses = Map::new();
        let ok_desc = if ok_status == 201 {
            "created"
        } else if ok_status == 204 {
            "done"
        } else {
            "OK"
        };
        if ok.is_null() {
            responses.insert(ok_status.to_string(), json!({"description": ok_desc}));
        } else if matches!(op.kind, OpKind::CircleXlsx) {
            responses.insert(ok_status.to_string(), json!({"description": ok_desc, "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": ok}}}));
        } else if matches!(op.kind, OpKind::GetAttachment) {
            responses.insert(
                ok_status.to_string(),
                json!({"description": ok_desc, "content": {"image/*": {"schema": ok}}}),
            );
        } else if matches!(op.kind, OpKind::CircleGeojson) {
            responses.insert(ok_status.to_string(), json!({"description": ok_desc, "content": {"application/geo+json": {"schema": ok}}}));
        } else {
            responses.insert(
                ok_status.to_string(),
                json!({"description": ok_desc, "content": content(ok)}),
            );
        }
        let errs: &[u16] = match (op.kind, body.is_some()) {
            (OpKind::Health, _) => &[503],
            (OpKind::UpdatePlace(_) | OpKind::UpdateAccount | OpKind::SetBookingState, _) => {
                &[400, 401, 403, 404, 409, 413, 422, 428, 503]
            }
            (_, true) => &[400, 401, 403, 404, 409, 413, 422, 503],
            (_, false) => &[400, 401, 403, 404, 422, 503],
        };
        responses.extend(error_responses(errs));
        let mut o = json!({
            "operationId": op_id, "summary": summary, "tags": [tag],
            "parameters": params, "responses": responses,
        });
        if let Some(b) = body {
            let c = if matches!(op.kind, OpKind::AddAttachment) {
                json!({"image/jpeg": {"schema": b}, "image/png": {"schema": b}, "image/webp": {"schema": b}})
            } else {
                content(b)
            };
            o["requestBody"] = json!({"required": true, "content": c});
        }
        if matches!(op.kind, OpKind::Health) {
            o["security"] = json!([]);
        }
        paths.entry(op.path.clone()).or_insert_with(|| json!({}))[method] = o;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Doorstep API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The JSON API of Doorstep (家门口), the residential service system of a subdistrict. \
                Authenticate with a session cookie (the web app; its writes send the session's CSRF \
                token in `X-CSRF-Token`) or `Authorization: Bearer <token>` (create tokens on /me). Every route checks role and scope on the server. Error messages \
                follow Accept-Language (zh-CN by default, en). Residents' own channel for \
                third-party clients is Open311 GeoReport v2 at `/open311/v2` (discovery at \
                `/open311/v2/discovery.json`, described by its own specification, \
                http://wiki.open311.org/GeoReport_v2, and the README).",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"}
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an API token from /me"},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::session::SESSION_COOKIE}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_documented_once() {
        let doc = openapi();
        let mut n = 0;
        for op in ops() {
            let m = op.method.as_str().to_lowercase();
            assert!(
                doc["paths"][&op.path][&m].is_object(),
                "{} {} missing",
                m,
                op.path
            );
            n += 1;
        }
        let documented: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum();
        assert_eq!(documented, n);
        // Every $ref resolves.
        let text = doc.to_string();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(
                doc["components"]["schemas"][&name].is_object(),
                "dangling $ref {name}"
            );
        }
    }
}

//! Staff accounts: fields and rules.

use crate::fields::{FieldErrors, FieldKind, FieldSpec, Values};
use crate::{Role, Value};

pub const LOCALES: &[&str] = &["zh-CN", "en"];

/// The fields of an account as admins edit them. The password is set separately.
pub const ACCOUNT_FIELDS: &[FieldSpec] = &[
    FieldSpec::text("username", 40).required().listed().fixed(),
    FieldSpec::text("display_name", 40).required().listed(),
    FieldSpec::new("role", FieldKind::Choice(Role::CODES))
        .required()
        .listed(),
    FieldSpec::new("neighbourhood_id", FieldKind::Ref("neighbourhoods")).listed(),
    FieldSpec::text("partner_unit", 100),
    FieldSpec::new("phone", FieldKind::Phone),
    FieldSpec::new("locale", FieldKind::Choice(LOCALES)),
    FieldSpec::new("disabled", FieldKind::Bool).listed(),
];

/// Rules across account fields, after each field is valid on its own.
pub fn check_account(values: &Values) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    if let Some(u) = values.get("username").and_then(Value::as_str)
        && !valid_username(u)
    {
        errors.add("username", "invalid_username");
    }
    let role = values
        .get("role")
        .and_then(Value::as_str)
        .and_then(Role::parse);
    let nb = values.get("neighbourhood_id").and_then(Value::as_i64);
    match role {
        Some(r) if r.needs_neighbourhood() && nb.is_none() => {
            errors.add("neighbourhood_id", "required_for_role")
        }
        Some(Role::Admin) if nb.is_some() => errors.add("neighbourhood_id", "not_for_role"),
        Some(Role::Partner) if values.get("partner_unit").is_none_or(|v| v.is_null()) => {
            errors.add("partner_unit", "required_for_role")
        }
        _ => {}
    }
    errors.into_result(())
}

/// Lower-case letters, digits, `.`, `_`, `-`; 3 to 40 characters; starts with a letter.
pub fn valid_username(u: &str) -> bool {
    (3..=40).contains(&u.len())
        && u.starts_with(|c: char| c.is_ascii_lowercase())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// The password policy (NIST 800-63B style: length, not composition rules). Returns the
/// error code, if any.
pub fn check_password(password: &str, username: &str) -> Option<&'static str> {
    let n = password.chars().count();
    if n < 10 {
        Some("password_too_short")
    } else if n > 128 {
        Some("password_too_long")
    } else if password.to_lowercase().contains(&username.to_lowercase()) && !username.is_empty() {
        Some("password_contains_username")
    } else if password
        .chars()
        .all(|c| c == password.chars().next().unwrap_or(' '))
    {
        Some("password_too_simple")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::validate;
    use serde_json::json;

    fn values(v: serde_json::Value) -> Result<Values, FieldErrors> {
        let map = v.as_object().cloned().unwrap_or_default();
        validate(ACCOUNT_FIELDS, &map, None, &[]).and_then(|v| check_account(&v).map(|_| v))
    }

    #[test]
    fn roles_need_their_scope() {
        assert!(values(json!({"username": "mudan7-sec", "display_name": "书记", "role": "secretary", "neighbourhood_id": 3})).is_ok());
        let e = values(json!({"username": "w1x", "display_name": "社工", "role": "worker"}))
            .unwrap_err();
        assert_eq!(e.0[0].code, "required_for_role");
        let e = values(
            json!({"username": "adm", "display_name": "A", "role": "admin", "neighbourhood_id": 3}),
        )
        .unwrap_err();
        assert_eq!(e.0[0].code, "not_for_role");
        let e = values(json!({"username": "Bad Name", "display_name": "A", "role": "admin"}))
            .unwrap_err();
        assert_eq!(e.0[0].code, "invalid_username");
    }

    #[test]
    fn password_policy() {
        assert_eq!(check_password("short", "x"), Some("password_too_short"));
        assert_eq!(
            check_password("aaaaaaaaaaaa", "x"),
            Some("password_too_simple")
        );
        assert_eq!(
            check_password("my-admin-password", "admin"),
            Some("password_contains_username")
        );
        assert_eq!(check_password("玉兰路218号花木街道", "admin"), None);
    }
}

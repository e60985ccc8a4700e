//! Form fields from field descriptions.

use super::format_num;
use crate::i18n::{I18n, Lang};
use doorstep_domain::{FieldErrors, FieldKind, FieldSpec};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

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

/// Options for a choice of codes, labelled through `prefix` (`choice.kind.` + code).
pub fn choice_options(i18n: &I18n, lang: Lang, codes: &[&str], prefix: &str) -> Vec<SelectOption> {
    codes
        .iter()
        .map(|c| SelectOption {
            value: c.to_string(),
            label: i18n.t(lang, &format!("{prefix}{c}")),
        })
        .collect()
}

impl From<doorstep_services::places::Choice> for SelectOption {
    fn from(c: doorstep_services::places::Choice) -> SelectOption {
        SelectOption {
            value: c.id.to_string(),
            label: c.label,
        }
    }
}

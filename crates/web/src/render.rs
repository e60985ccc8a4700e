//! Page rendering: minijinja templates compiled into the binary, a base context every page
//! shares (language, user, navigation, demo banner), and `t()` for translations.

use crate::i18n::{I18n, Lang};
use crate::session::CurrentUser;
use crate::{AppError, AppState};
use axum::response::Html;
use minijinja::value::{Rest, Value};
use minijinja::{Environment, context};
use std::sync::Arc;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

/// Every template, by name (a test checks that each file under `templates/` is here).
pub const TEMPLATES: &[(&str, &str)] = templates!(
    "base.html",
    "macros.html",
    "error.html",
    "login.html",
    "setup.html",
    "home.html",
    "welcome.html",
    "places/index.html",
    "places/show.html",
    "form.html",
    "resident/pick.html",
    "resident/report.html",
    "resident/track.html",
    "figures.html",
    "accounts/index.html",
    "accounts/show.html",
    "audit.html",
    "me.html",
    "circle.html",
    "catalogue.html",
    "catalogue_item.html",
    "api_docs.html",
    "care/index.html",
    "care/block.html",
    "care/building.html",
    "care/household.html",
    "care/resident_form.html",
    "care/resident_edit.html",
    "care/settings.html",
    "care/offline_status.html",
    "care/import.html",
    "requests/index.html",
    "requests/show.html",
    "requests/new.html",
    "bookings/station.html",
);

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, src) in TEMPLATES {
        if let Err(e) = env.add_template(name, src) {
            // Templates are compiled in; a broken one fails the render tests.
            tracing::error!(template = name, error = %e, "template does not compile");
        }
    }
    env
}

fn translator(i18n: Arc<I18n>, lang: Lang) -> Value {
    Value::from_function(move |key: String, args: Rest<Value>| -> String {
        let args: Vec<String> = args.0.iter().map(|v| v.to_string()).collect();
        i18n.t_args(lang, &key, &args)
    })
}

/// A navigation link.
#[derive(serde::Serialize)]
struct NavItem {
    href: String,
    label: String,
}

fn nav(state: &AppState, lang: Lang, user: &CurrentUser) -> Vec<NavItem> {
    use doorstep_domain::Role;
    let role = user.actor.role;
    let mut links: Vec<(String, &str)> = vec![("/".into(), "nav.home")];
    if let Some(nb) = user.actor.neighbourhood_id {
        links.push((format!("/neighbourhoods/{nb}"), "nav.my_neighbourhood"));
    }
    // A worker's block (心中有数) is her care page; the block list stays under places.
    if matches!(role, Role::Secretary | Role::Worker) {
        links.push(("/care".into(), "nav.care"));
    }
    if role == Role::Admin {
        links.push(("/care/settings".into(), "nav.care_settings"));
    }
    if matches!(role, Role::Admin | Role::Secretary | Role::Worker) {
        links.push(("/requests".into(), "nav.requests"));
        links.push(("/figures".into(), "nav.figures"));
    }
    links.push(("/catalogue".into(), "nav.catalogue"));
    links.push(("/communities".into(), "nav.communities"));
    links.push(("/neighbourhoods".into(), "nav.neighbourhoods"));
    links.push(("/stations".into(), "nav.stations"));
    links.push(("/partners".into(), "nav.partners"));
    links.push(("/circle".into(), "nav.circle"));
    if matches!(role, Role::Admin | Role::Secretary) {
        links.push(("/accounts".into(), "nav.accounts"));
    }
    if user.actor.may_read_audit() {
        links.push(("/audit".into(), "nav.audit"));
    }
    links.push(("/me".into(), "nav.me"));
    if role == Role::Admin {
        links.push(("/api".into(), "nav.api"));
    }
    links
        .into_iter()
        .map(|(href, key)| NavItem {
            href,
            label: state.i18n.t(lang, key),
        })
        .collect()
}

/// Renders `template` with the shared base context and `extra`.
pub fn page(
    state: &AppState,
    lang: Lang,
    user: Option<&CurrentUser>,
    template: &str,
    title: &str,
    extra: Value,
) -> Result<Html<String>, AppError> {
    let tmpl = state.templates.get_template(template).map_err(|e| {
        tracing::error!(template, error = %e, "missing template");
        AppError::Internal
    })?;
    let user_ctx = user.map(|u| {
        context! {
            name => u.account.display_name,
            username => u.account.username,
            role => state.i18n.t(lang, &format!("choice.role.{}", u.actor.role.code())),
            role_code => u.actor.role.code(),
            csrf => u.csrf,
        }
    });
    let base = context! {
        lang => lang.code(),
        other_lang => lang.other().code(),
        title => title,
        user => user_ctx,
        nav => user.map(|u| nav(state, lang, u)),
        demo => state.demo,
        t => translator(state.i18n.clone(), lang),
        app_version => env!("CARGO_PKG_VERSION"),
        asset_version => crate::assets::version(),
    };
    let ctx = context! { ..extra, ..base };
    tmpl.render(ctx).map(Html).map_err(|e| {
        tracing::error!(template, error = %e, "template failed to render");
        AppError::Internal
    })
}

/// The page shown for an error (rendered by the error middleware).
/// An error page in plain words: what happened, what to do next, and the menu of the
/// signed-in user so they are not stranded.
pub fn error_page(
    state: &AppState,
    lang: Lang,
    user: Option<&CurrentUser>,
    err: &AppError,
) -> Html<String> {
    let title = match err {
        // On its own page there are no marked fields to check: say what is wrong instead.
        AppError::Validation(_) => state.i18n.t(lang, "error.page_validation"),
        _ => state.i18n.t(lang, &format!("error.{}", err.code())),
    };
    let hint = match err {
        AppError::TooManyRequests { retry_after } => state.i18n.t_args(
            lang,
            "error.hint.too_many_requests",
            &[retry_after.div_ceil(60).to_string()],
        ),
        _ => {
            let key = format!("error.hint.{}", err.code());
            if state.i18n.has(&key) {
                state.i18n.t(lang, &key)
            } else {
                String::new()
            }
        }
    };
    let fields: Vec<String> = match err {
        AppError::Validation(f) => {
            f.0.iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        state.i18n.t(lang, &format!("field.{}", e.field)),
                        state.i18n.field_error(lang, e)
                    )
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let extra =
        context! { status => err.status().as_u16(), message => title, fields => fields, hint };
    page(state, lang, user, "error.html", &title, extra).unwrap_or_else(|_| {
        Html(format!(
            "<!doctype html><title>{0}</title><h1>{0}</h1>",
            err.status()
        ))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_file_is_compiled_in_and_compiles() {
        fn files(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    files(&p, root, out);
                } else {
                    out.push(
                        p.strip_prefix(root)
                            .unwrap()
                            .to_string_lossy()
                            .replace('\\', "/"),
                    );
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut on_disk = Vec::new();
        files(&root, &root, &mut on_disk);
        for f in &on_disk {
            assert!(
                super::TEMPLATES.iter().any(|(n, _)| n == f),
                "{f} is not in TEMPLATES"
            );
        }
        let mut env = minijinja::Environment::new();
        for (name, src) in super::TEMPLATES {
            env.add_template(name, src)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

//! Page rendering: minijinja templates compiled into the binary, a base context every page
//! shares (language, user, navigation, demo banner), and `t()` for translations.

use crate::i18n::{I18n, Lang};
use crate::session::CurrentUser;
use crate::{AppError, AppState};
use axum::response::Html;
use minijinja::value::{Rest, Value};
use minijinja::{Environment, context};
use std::sync::Arc;

/// Every template, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("setup.html", include_str!("../templates/setup.html")),
    ("home.html", include_str!("../templates/home.html")),
    (
        "places/index.html",
        include_str!("../templates/places/index.html"),
    ),
    (
        "places/show.html",
        include_str!("../templates/places/show.html"),
    ),
    ("form.html", include_str!("../templates/form.html")),
    (
        "resident/pick.html",
        include_str!("../templates/resident/pick.html"),
    ),
    (
        "resident/report.html",
        include_str!("../templates/resident/report.html"),
    ),
    (
        "resident/track.html",
        include_str!("../templates/resident/track.html"),
    ),
    ("figures.html", include_str!("../templates/figures.html")),
    (
        "accounts/index.html",
        include_str!("../templates/accounts/index.html"),
    ),
    (
        "accounts/show.html",
        include_str!("../templates/accounts/show.html"),
    ),
    ("audit.html", include_str!("../templates/audit.html")),
    ("me.html", include_str!("../templates/me.html")),
    ("circle.html", include_str!("../templates/circle.html")),
    (
        "catalogue.html",
        include_str!("../templates/catalogue.html"),
    ),
    (
        "requests/index.html",
        include_str!("../templates/requests/index.html"),
    ),
    (
        "requests/show.html",
        include_str!("../templates/requests/show.html"),
    ),
];

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
    if role == Role::Worker {
        links.push(("/blocks?mine=1".into(), "nav.my_blocks"));
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
    links.push(("/api/docs/".into(), "nav.api"));
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
    };
    let ctx = context! { ..extra, ..base };
    tmpl.render(ctx).map(Html).map_err(|e| {
        tracing::error!(template, error = %e, "template failed to render");
        AppError::Internal
    })
}

/// The page shown for an error (rendered by the error middleware).
pub fn error_page(state: &AppState, lang: Lang, err: &AppError) -> Html<String> {
    let title = state.i18n.t(lang, &format!("error.{}", err.code()));
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
    let extra = context! { status => err.status().as_u16(), message => title, fields => fields };
    page(state, lang, None, "error.html", &title, extra).unwrap_or_else(|_| {
        Html(format!(
            "<!doctype html><title>{0}</title><h1>{0}</h1>",
            err.status()
        ))
    })
}

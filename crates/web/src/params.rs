//! Query strings read into typed structs. A struct says which parameters it takes and of
//! what type ([`FromParams`]); the extractors read the query once, collect every error
//! of every parameter, and hand the handler the struct:
//!
//! - [`ApiQuery`] (the JSON API): a parameter the struct does not take, a repeated one or
//!   a value of the wrong type is a 422 naming it.
//! - [`PageQuery`] (pages): parameters the page does not take are ignored (links carry
//!   others), values of the wrong type are a 422 naming them.

use crate::AppError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use doorstep_domain::FieldErrors;
use std::collections::BTreeMap;
use std::str::FromStr;

/// The parameters of one query, taken one by one by a [`FromParams`] implementation.
#[derive(Debug, Default)]
pub struct Params {
    values: BTreeMap<String, String>,
    repeated: Vec<String>,
    errors: FieldErrors,
}

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        let mut p = Params::default();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if p.values.insert(k.to_string(), v.into_owned()).is_some() {
                p.repeated.push(k.into_owned());
            }
        }
        p
    }

    /// Whether the query names the parameter at all (even empty).
    pub fn has(&self, k: &str) -> bool {
        self.values.contains_key(k)
    }

    /// A parameter's text as given, leaving it to be taken (to show a form again).
    pub fn peek(&self, k: &str) -> Option<String> {
        self.values.get(k).filter(|v| !v.trim().is_empty()).cloned()
    }

    /// Takes a parameter's text as given (empty counts as absent). Control characters
    /// (a NUL, which PostgreSQL cannot compare) are an error on the parameter.
    pub fn text(&mut self, k: &str) -> Option<String> {
        let v = self.values.remove(k).filter(|v| !v.trim().is_empty())?;
        if v.chars().any(char::is_control) {
            self.errors.add(k, "invalid_characters");
            return None;
        }
        Some(v)
    }

    /// Takes a parameter of a type read from text (numbers, ids, codes); a value that
    /// does not read is recorded as `code` on the parameter.
    fn typed<T: FromStr>(&mut self, k: &str, code: &'static str) -> Option<T> {
        let v = self.text(k)?;
        match v.trim().parse() {
            Ok(x) => Some(x),
            Err(_) => {
                self.errors.add(k, code);
                None
            }
        }
    }

    pub fn int(&mut self, k: &str) -> Option<i64> {
        self.typed(k, "not_integer")
    }

    /// A record id (of any id type).
    pub fn id<T: FromStr>(&mut self, k: &str) -> Option<T> {
        self.typed(k, "not_integer")
    }

    pub fn float(&mut self, k: &str) -> Option<f64> {
        let x = self.typed::<f64>(k, "not_number")?;
        if x.is_finite() {
            Some(x)
        } else {
            self.errors.add(k, "not_number");
            None
        }
    }

    /// One of a coded enum's codes.
    pub fn code<T: FromStr>(&mut self, k: &str) -> Option<T> {
        self.typed(k, "invalid_choice")
    }

    /// A code that is ignored when it is not one (the board's filters, whose links may be
    /// stale).
    pub fn code_or_none<T: FromStr>(&mut self, k: &str) -> Option<T> {
        self.text(k).and_then(|v| v.trim().parse().ok())
    }

    /// A day, `YYYY-MM-DD`.
    pub fn date(&mut self, k: &str) -> Option<chrono::NaiveDate> {
        let v = self.text(k)?;
        match chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.errors.add(k, "invalid_date");
                None
            }
        }
    }

    /// `true`, `false`, `1`, `0`, or absent; anything else is an error.
    pub fn bool(&mut self, k: &str) -> Option<bool> {
        match self.text(k)?.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => {
                self.errors.add(k, "invalid_choice");
                None
            }
        }
    }

    /// The page and page size: `page` from 1, `per_page` 1 to 200; out of range is an
    /// error on the parameter. Returns (limit, offset).
    pub fn paging(&mut self) -> (i64, i64) {
        let page = self.int("page").unwrap_or(1);
        let per_page = self.int("per_page").unwrap_or(50);
        if page < 1 {
            self.errors
                .add_with("page", "out_of_range", vec!["1".into(), "1000000".into()]);
        }
        if !(1..=200).contains(&per_page) {
            self.errors
                .add_with("per_page", "out_of_range", vec!["1".into(), "200".into()]);
        }
        crate::views::paging(Some(page), Some(per_page))
    }

    /// Takes every parameter not taken yet (for open-ended filters).
    pub fn rest(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.values).into_iter().collect()
    }

    /// Takes the errors recorded so far (for a page that shows them beside its results).
    pub fn take_errors(&mut self) -> FieldErrors {
        std::mem::take(&mut self.errors)
    }

    /// Records an error with its parameters (a range's ends).
    pub fn error_with(&mut self, k: &str, code: &'static str, params: &[&str]) {
        self.errors
            .add_with(k, code, params.iter().map(|s| s.to_string()).collect());
    }

    fn finish(mut self, strict: bool) -> Result<(), AppError> {
        if strict {
            for k in std::mem::take(&mut self.repeated) {
                self.errors.add(&k, "repeated");
            }
            for k in self.values.keys() {
                self.errors.add(k, "unknown_field");
            }
        }
        self.errors.into_result(()).map_err(AppError::Validation)
    }
}

/// A struct read from a query.
pub trait FromParams: Sized {
    fn from_params(p: &mut Params) -> Self;
}

fn read<T: FromParams>(parts: &Parts, strict: bool) -> Result<T, AppError> {
    let mut p = Params::parse(parts.uri.query());
    let t = T::from_params(&mut p);
    p.finish(strict)?;
    Ok(t)
}

/// A query of the JSON API: exactly the parameters `T` takes.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: FromParams> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        read(parts, true).map(ApiQuery)
    }
}

/// A query of a page: the parameters `T` takes, others ignored.
pub struct PageQuery<T>(pub T);

impl<S: Send + Sync, T: FromParams> FromRequestParts<S> for PageQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        read(parts, false).map(PageQuery)
    }
}

/// The circle's query, shared by its page (leniently) and its API (strictly).
impl FromParams for doorstep_services::circle::CircleQuery {
    fn from_params(p: &mut Params) -> Self {
        doorstep_services::circle::CircleQuery {
            category: p.text("category"),
            minutes: p.text("minutes"),
            neighbourhood_id: p.text("neighbourhood_id"),
            k: p.text("k"),
            candidate_buildings: p.text("candidate_buildings"),
            outside: p.text("outside"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, PartialEq)]
    struct Q {
        page: (i64, i64),
        n: Option<i64>,
        q: Option<String>,
        flag: bool,
    }

    impl FromParams for Q {
        fn from_params(p: &mut Params) -> Self {
            Q {
                page: p.paging(),
                n: p.int("n"),
                q: p.text("q"),
                flag: p.bool("archived").unwrap_or(false),
            }
        }
    }

    fn parse(query: &str, strict: bool) -> Result<Q, FieldErrors> {
        let mut p = Params::parse(Some(query));
        let q = Q::from_params(&mut p);
        p.finish(strict).map(|_| q).map_err(|e| match e {
            AppError::Validation(f) => f,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn typed_values_and_their_errors() {
        let q = parse("n=5&q=%E7%89%A1%E4%B8%B9&archived=1&page=2", true).unwrap();
        assert_eq!(q.n, Some(5));
        assert_eq!(q.q.as_deref(), Some("牡丹"));
        assert!(q.flag);
        assert_eq!(q.page, (50, 50));
        let e = parse("n=five&page=0&per_page=-3", true).unwrap_err();
        let codes: Vec<(&str, &str)> = e.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert!(codes.contains(&("n", "not_integer")));
        assert!(codes.contains(&("page", "out_of_range")));
        assert!(codes.contains(&("per_page", "out_of_range")));
    }

    #[test]
    fn the_api_refuses_unknown_and_repeated_parameters_pages_ignore_them() {
        let e = parse("n=1&n=2&colour=red", true).unwrap_err();
        assert!(e.get("n").is_some_and(|x| x.code == "repeated"));
        assert!(e.get("colour").is_some_and(|x| x.code == "unknown_field"));
        assert!(parse("colour=red", false).is_ok());
    }

    proptest! {
        /// Whatever the query, reading it never panics, and a strict read either fails or
        /// leaves nothing unread.
        #[test]
        fn any_query_reads_or_is_refused(query in "[a-z=&%0-9]{0,40}") {
            let mut p = Params::parse(Some(&query));
            let _ = Q::from_params(&mut p);
            let unread = !p.values.is_empty() || !p.repeated.is_empty();
            let r = p.finish(true);
            prop_assert!(!(unread && r.is_ok()));
        }
    }
}

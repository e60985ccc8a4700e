//! The catalogue's search: BM25 over an item's fields, on dictionary words (jieba), on
//! character pairs as a fallback, and on pinyin for queries typed in Latin letters, with
//! the item's everyday phrasings weighted nearly as much as its name.
//!
//! The index is built from the items in memory (a catalogue is a few hundred items) and
//! rebuilt by the services whenever the catalogue changes.

use super::text::{self, is_cjk, is_stopword};
use super::{Category, ServiceItem};
use std::collections::{BTreeSet, HashMap};

/// How much a term in each field counts.
const NAME: f32 = 3.0;
const PHRASINGS: f32 = 2.5;
const DESCRIPTION: f32 = 1.0;
const MINOR: f32 = 0.4;
const PINYIN: f32 = 2.0;

/// How much each kind of query term counts.
const WORD: f32 = 1.0;
const SINGLE_CHARACTER_WORD: f32 = 0.5;
const PAIR: f32 = 0.35;
const PINYIN_PREFIX: f32 = 0.6;
const PINYIN_PAIR: f32 = 0.5;
const SYNONYM: f32 = 0.7;
const CHARACTER: f32 = 0.15;

/// A BM25 index over catalogue items.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    /// term → (item, weighted frequency)
    postings: HashMap<String, Vec<(u32, f32)>>,
    /// Full pinyin spellings, sorted, for prefix matches of what is still being typed.
    pinyin: BTreeSet<String>,
    lengths: Vec<f32>,
    avg_len: f32,
    /// Per item: its category and the characters of its name and phrasings.
    characters: Vec<(Category, BTreeSet<char>)>,
}

fn word_term(w: &str) -> String {
    format!("w:{w}")
}
fn pair_term(p: &str) -> String {
    format!("p:{p}")
}
fn pinyin_term(p: &str) -> String {
    format!("y:{p}")
}
fn initials_term(p: &str) -> String {
    format!("i:{p}")
}
fn syllable_pair_term(a: &str, b: &str) -> String {
    format!("s:{a}{b}")
}
fn character_term(c: char) -> String {
    format!("c:{c}")
}

/// The weighted terms of one item.
fn item_terms(it: &ServiceItem) -> HashMap<String, f32> {
    let mut tf: HashMap<String, f32> = HashMap::new();
    let mut add = |t: String, w: f32| *tf.entry(t).or_default() += w;
    let phrasings = it.phrasings.join("，");
    let fields: [(&str, f32); 6] = [
        (&it.name, NAME),
        (&phrasings, PHRASINGS),
        (&it.description, DESCRIPTION),
        (&it.eligibility, MINOR),
        (&it.post, MINOR),
        (&it.location, MINOR),
    ];
    for (field, w) in fields {
        for word in text::words(field) {
            add(word_term(&word), w);
        }
        for pair in text::pairs(field) {
            add(pair_term(&pair), w);
        }
    }
    for source in std::iter::once(&it.name).chain(&it.phrasings) {
        let (full, initials) = text::pinyin_terms(source);
        for p in full {
            add(pinyin_term(&p), PINYIN);
        }
        for p in initials {
            add(initials_term(&p), PINYIN);
        }
        for pair in text::syllables_of(source).windows(2) {
            add(syllable_pair_term(&pair[0], &pair[1]), PINYIN);
        }
    }
    for (field, w) in &fields[..3] {
        for c in field.chars().filter(|c| is_cjk(*c)) {
            add(character_term(c), *w);
        }
    }
    tf
}

/// The weighted terms of a query.
fn query_terms(query: &str) -> Vec<(String, f32)> {
    let mut out: HashMap<String, f32> = HashMap::new();
    let words: Vec<String> = text::words(query)
        .into_iter()
        .filter(|w| !is_stopword(w))
        .collect();
    for w in &words {
        let weight = if w.chars().count() == 1 && w.chars().all(is_cjk) {
            SINGLE_CHARACTER_WORD
        } else {
            WORD
        };
        out.insert(word_term(w), weight);
    }
    for w in &words {
        for other in text::synonyms(w) {
            out.entry(word_term(other)).or_insert(SYNONYM);
        }
    }
    for p in text::pairs(query) {
        if !p.chars().all(text::is_filler_char) {
            out.entry(pair_term(&p)).or_insert(PAIR);
        }
    }
    for c in query
        .chars()
        .filter(|c| is_cjk(*c) && !text::is_filler_char(*c))
    {
        out.entry(character_term(c)).or_insert(CHARACTER);
    }
    for w in text::latin_words(query) {
        if let Some(syllables) = text::split_pinyin(&w) {
            for pair in syllables.windows(2) {
                out.entry(syllable_pair_term(&pair[0], &pair[1]))
                    .or_insert(PINYIN_PAIR);
            }
        }
        out.insert(pinyin_term(&w), WORD);
        out.insert(initials_term(&w), WORD);
    }
    let mut v: Vec<(String, f32)> = out.into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

impl SearchIndex {
    pub fn build<'a>(items: impl IntoIterator<Item = &'a ServiceItem>) -> SearchIndex {
        let mut idx = SearchIndex::default();
        for (i, it) in items.into_iter().enumerate() {
            let tf = item_terms(it);
            idx.lengths.push(tf.values().sum());
            for (t, f) in tf {
                if let Some(p) = t.strip_prefix("y:") {
                    idx.pinyin.insert(p.to_string());
                }
                idx.postings.entry(t).or_default().push((i as u32, f));
            }
            let chars = it
                .name
                .chars()
                .chain(it.phrasings.iter().flat_map(|p| p.chars()))
                .filter(|c| is_cjk(*c))
                .collect();
            idx.characters.push((it.category, chars));
        }
        let n = idx.lengths.len().max(1) as f32;
        idx.avg_len = idx.lengths.iter().sum::<f32>() / n;
        idx
    }

    /// Pinyin terms that begin with `typed` (at least three letters), but are not it.
    fn pinyin_prefixed(&self, typed: &str) -> Vec<String> {
        if typed.len() < 3 {
            return Vec::new();
        }
        self.pinyin
            .range(typed.to_string()..)
            .take_while(|p| p.starts_with(typed))
            .filter(|p| p.as_str() != typed)
            .map(|p| pinyin_term(p))
            .collect()
    }

    /// Items matching `query`, best first, as (item index, score); at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<(usize, f32)> {
        let mut terms = query_terms(query);
        let prefixed: Vec<(String, f32)> = terms
            .iter()
            .filter_map(|(t, _)| t.strip_prefix("y:"))
            .flat_map(|typed| self.pinyin_prefixed(typed))
            .map(|t| (t, PINYIN_PREFIX))
            .collect();
        terms.extend(prefixed);
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for (t, weight) in &terms {
            for (doc, s) in self.bm25(t) {
                *scores.entry(doc).or_default() += weight * s;
            }
        }
        let mut out: Vec<(usize, f32)> = scores.into_iter().map(|(d, s)| (d as usize, s)).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(limit);
        out
    }

    /// BM25 contributions of one term.
    fn bm25(&self, term: &str) -> impl Iterator<Item = (u32, f32)> + '_ {
        let (k1, b) = (1.2f32, 0.75f32);
        let n = self.lengths.len() as f32;
        let post = self.postings.get(term).map(Vec::as_slice).unwrap_or(&[]);
        let df = post.len() as f32;
        let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
        post.iter().map(move |(doc, f)| {
            let len = self.lengths[*doc as usize];
            let norm = 1.0 - b + b * len / self.avg_len.max(1e-6);
            (*doc, idf * (f * (k1 + 1.0)) / (f + k1 * norm))
        })
    }

    /// When nothing matches: the categories whose items share the most characters with
    /// the query (at most three), so the resident or worker can browse from there.
    pub fn nearest_categories(&self, query: &str) -> Vec<Category> {
        let asked: BTreeSet<char> = query
            .chars()
            .filter(|c| is_cjk(*c) && !is_stopword(&c.to_string()))
            .collect();
        let mut by_category: HashMap<Category, usize> = HashMap::new();
        for (category, chars) in &self.characters {
            let shared = asked.intersection(chars).count();
            if shared > 0 {
                *by_category.entry(*category).or_default() += shared;
            }
        }
        let mut ranked: Vec<(Category, usize)> = by_category.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.code().cmp(b.0.code())));
        ranked.into_iter().take(3).map(|(c, _)| c).collect()
    }
}

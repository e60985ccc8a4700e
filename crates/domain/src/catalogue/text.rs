//! Turning Chinese text into search terms: words by jieba's dictionary segmentation,
//! character pairs as a fallback for words it does not know, and pinyin (full and
//! initials) so that `dibao` or `db` typed on a phone finds 低保.

use jieba_rs::Jieba;
use pinyin::ToPinyin;
use std::collections::HashSet;
use std::sync::LazyLock;

/// The segmenter: its dictionary is loaded once per process and shared.
static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Every pinyin syllable (toneless, ü written v), to split what residents type.
static SYLLABLES: LazyLock<HashSet<String>> = LazyLock::new(|| {
    (0x4E00u32..=0x9FFF)
        .filter_map(char::from_u32)
        .filter_map(|c| c.to_pinyin())
        .map(|p| plain(p.plain()))
        .collect()
});

/// Loads the dictionary now (a server does it at start, not on the first search).
pub fn warm_up() {
    LazyLock::force(&JIEBA);
    LazyLock::force(&SYLLABLES);
}

/// Toneless pinyin as typed on a phone keyboard: ü is v (律 lv, 女 nv).
fn plain(p: &str) -> String {
    p.replace('ü', "v")
}

/// Everyday words and the words the catalogue uses for the same thing: a query's word
/// also looks for the others of its group (with less weight than the word itself).
const SYNONYMS: &[&[&str]] = &[
    &["老人", "老年人", "老年", "长者", "高龄"],
    &["小孩", "孩子", "儿童", "小朋友"],
    &["吃饭", "用餐", "就餐", "助餐"],
    &["吵", "噪音", "噪声", "扰民"],
    &["狗", "犬", "犬只"],
    &["钱", "费用"],
    &["看病", "就医", "就诊"],
    &["坏了", "损坏", "报修", "维修"],
    &["丢了", "遗失", "补办"],
    &["打针", "接种", "疫苗"],
    &["老公", "丈夫"],
    &["老婆", "妻子"],
    &["电瓶车", "电动车", "电动自行车"],
    &["房子", "住房", "房屋"],
    &["找工作", "就业", "求职"],
    &["律师", "法律咨询"],
];

/// The other words of `word`'s synonym groups.
pub fn synonyms(word: &str) -> impl Iterator<Item = &'static str> + '_ {
    SYNONYMS
        .iter()
        .filter(move |g| g.contains(&word))
        .flat_map(|g| g.iter().copied())
        .filter(move |w| *w != word)
}

/// Pinyin syllables of each CJK character of `text`, in order (others skipped).
pub fn syllables_of(text: &str) -> Vec<String> {
    text.chars()
        .filter(|c| is_cjk(*c))
        .filter_map(|c| c.to_pinyin())
        .map(|p| plain(p.plain()))
        .collect()
}

/// Splits typed pinyin into syllables, longest first ("xinlizixun" → xin li zi xun);
/// `None` when it is not pinyin.
pub fn split_pinyin(typed: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = typed.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let longest = (1..=6.min(chars.len() - at))
            .rev()
            .find(|n| SYLLABLES.contains(&chars[at..at + n].iter().collect::<String>()))?;
        out.push(chars[at..at + longest].iter().collect());
        at += longest;
    }
    Some(out)
}

pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

fn is_cjk_word(w: &str) -> bool {
    w.chars().all(is_cjk)
}

/// Words of a query that say nothing about the matter ("我想问一下怎么办").
const STOPWORDS: &[&str] = &[
    "我",
    "你",
    "他",
    "她",
    "它",
    "我们",
    "你们",
    "他们",
    "的",
    "了",
    "吗",
    "呢",
    "啊",
    "吧",
    "呀",
    "啦",
    "嘛",
    "哦",
    "想",
    "要",
    "能",
    "能不能",
    "可以",
    "可不可以",
    "怎么",
    "怎么办",
    "怎样",
    "如何",
    "咋",
    "咋办",
    "请问",
    "一下",
    "帮",
    "帮忙",
    "帮我",
    "这个",
    "那个",
    "这",
    "那",
    "有",
    "没有",
    "是",
    "不是",
    "在",
    "和",
    "跟",
    "与",
    "给",
    "去",
    "来",
    "问",
    "问问",
    "什么",
    "哪里",
    "哪儿",
    "谁",
    "我家",
    "自己",
    "一个",
    "个",
    "天天",
    "总是",
    "老是",
    "太",
    "很",
    "非常",
    "都",
    "也",
    "还",
    "就",
    "又",
    "得",
    "着",
    "过",
    "被",
    "把",
    "让",
    "该",
    "需要",
    "应该",
    "现在",
    "已经",
    "一直",
    "好",
    "下",
    "上",
    "里",
    "中",
    "吗",
    "么",
    "呗",
];

pub(crate) fn is_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w)
}

/// Characters that occur in filler words: alone they say nothing about the matter.
pub(crate) fn is_filler_char(c: char) -> bool {
    STOPWORDS.iter().any(|w| w.contains(c)) || c == '一'
}

/// The words of `text` in search mode (long words also give their dictionary sub-words:
/// 家庭医生 → 家庭, 医生, 家庭医生), lower-cased, without punctuation or spaces.
pub fn words(text: &str) -> Vec<String> {
    JIEBA
        .cut_for_search(text, true)
        .into_iter()
        .map(|t| t.word.trim().to_lowercase())
        .filter(|w| w.chars().any(|c| c.is_alphanumeric()))
        .collect()
}

/// The words of `text` as one cut (no sub-words): the units pinyin is taken of.
fn plain_words(text: &str) -> Vec<String> {
    JIEBA
        .cut(text, true)
        .into_iter()
        .map(|t| t.word.to_string())
        .filter(|w| is_cjk_word(w))
        .collect()
}

/// Adjacent pairs of CJK characters in `text` (the fallback for words jieba splits
/// differently in a query than in the catalogue).
pub fn pairs(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(2)
        .filter(|w| is_cjk(w[0]) && is_cjk(w[1]))
        .map(|w| w.iter().collect())
        .collect()
}

/// Full pinyin and initials of a CJK word: 低保 → ("dibao", "db"). `None` when a
/// character has no reading.
pub fn pinyin_of(word: &str) -> Option<(String, String)> {
    let mut full = String::new();
    let mut initials = String::new();
    for p in word.to_pinyin() {
        let p = p?;
        full.push_str(&plain(p.plain()));
        initials.push_str(p.first_letter());
    }
    (!full.is_empty()).then_some((full, initials))
}

/// Pinyin spellings residents may type for `text` (a name or an everyday phrasing): of
/// each word, of each two adjacent words, and of the whole when it is short; full
/// spellings and initials apart.
pub fn pinyin_terms(text: &str) -> (Vec<String>, Vec<String>) {
    let ws = plain_words(text);
    let mut units: Vec<String> = ws.clone();
    units.extend(ws.windows(2).map(|w| w.concat()));
    let whole: String = text.chars().filter(|c| is_cjk(*c)).collect();
    if (2..=10).contains(&whole.chars().count()) {
        units.push(whole);
    }
    let (mut fulls, mut inits) = (Vec::new(), Vec::new());
    for u in units {
        if let Some((full, initials)) = pinyin_of(&u) {
            fulls.push(full);
            if initials.len() >= 2 {
                inits.push(initials);
            }
        }
    }
    for v in [&mut fulls, &mut inits] {
        v.sort();
        v.dedup();
    }
    (fulls, inits)
}

/// Latin-letter runs of a query, lower-cased ("dibao", "wifi").
pub fn latin_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()))
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_pairs_and_pinyin() {
        let w = words("楼上装修太吵了");
        assert!(
            w.contains(&"装修".to_string()) && w.contains(&"楼上".to_string()),
            "{w:?}"
        );
        let w = words("家庭医生签约");
        assert!(
            w.contains(&"医生".to_string()) && w.contains(&"签约".to_string()),
            "{w:?}"
        );
        assert_eq!(pairs("扔旧沙发"), vec!["扔旧", "旧沙", "沙发"]);
        assert_eq!(pinyin_of("低保"), Some(("dibao".into(), "db".into())));
        let (full, initials) = pinyin_terms("居住证");
        assert!(full.contains(&"juzhuzheng".to_string()), "{full:?}");
        assert!(initials.contains(&"jzz".to_string()), "{initials:?}");
        assert_eq!(latin_words("我要办 DiBao, wifi-2"), vec!["dibao", "wifi"]);
        assert!(is_stopword("怎么办") && !is_stopword("低保"));
        assert_eq!(pinyin_of("法律").map(|p| p.0), Some("falv".into()));
        assert_eq!(
            split_pinyin("xinlizixun"),
            Some(vec!["xin".into(), "li".into(), "zi".into(), "xun".into()])
        );
        assert_eq!(split_pinyin("qqq"), None);
        assert_eq!(syllables_of("助餐a"), vec!["zhu", "can"]);
        assert!(synonyms("老人").any(|w| w == "老年"));
    }
}

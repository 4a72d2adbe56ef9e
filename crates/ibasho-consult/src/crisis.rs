//! Noticing a crisis in what someone writes: configurable word lists, matched after folding
//! the ways the same words can be typed — full-width and half-width forms (NFKC), katakana and
//! hiragana, upper and lower case, and spaces put between the letters.

use unicode_normalization::UnicodeNormalization;

/// The words that mark a request urgent unless the configuration gives others. A starting
/// point, not a clinical instrument: each city should review it with its counsellors.
pub const DEFAULT_WORDS: &[&str] = &[
    "死にたい",
    "しにたい",
    "消えたい",
    "きえたい",
    "自殺",
    "死のう",
    "いなくなりたい",
    "生きていたくない",
    "殺して",
    "リストカット",
    "首を吊",
    "飛び降り",
    "kill myself",
    "suicide",
    "want to die",
    "end my life",
    "self-harm",
    "hurt myself",
];

/// Folds text so that the same words typed differently compare equal.
pub fn fold(text: &str) -> String {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            // Katakana → hiragana (ァ..ヶ sit 0x60 above ぁ..ゖ).
            '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            c => c,
        })
        .filter(|c| !c.is_whitespace() && !matches!(c, '・' | '-' | '_' | '.'))
        .collect()
}

/// Matches text against the crisis words.
#[derive(Clone, Debug)]
pub struct CrisisWords {
    folded: Vec<String>,
}

impl CrisisWords {
    /// A matcher for `words` (empty ones are ignored).
    pub fn new<S: AsRef<str>>(words: &[S]) -> Self {
        let mut folded: Vec<String> = words
            .iter()
            .map(|w| fold(w.as_ref()))
            .filter(|w| !w.is_empty())
            .collect();
        folded.sort();
        folded.dedup();
        Self { folded }
    }

    /// Whether `text` contains any of the words.
    pub fn matches(&self, text: &str) -> bool {
        let text = fold(text);
        self.folded.iter().any(|w| text.contains(w.as_str()))
    }
}

impl Default for CrisisWords {
    fn default() -> Self {
        Self::new(DEFAULT_WORDS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_words_typed_differently_match() {
        let words = CrisisWords::default();
        for text in [
            "もう死にたい",
            "もう 死に たい",
            "ｼﾆﾀｲ気持ちです",
            "シニタイ",
            "消えたいです",
            "I WANT TO DIE",
            "i want to\u{3000}die",
            "thinking about s u i c i d e",
            "ＳＵＩＣＩＤＥ",
        ] {
            assert!(words.matches(text), "{text}");
        }
        for text in ["今日は晴れ", "死ぬほど笑った映画", "I want to dine out"] {
            assert!(!words.matches(text), "{text}");
        }
        assert!(CrisisWords::new(&["たすけて"]).matches("タスケテ"));
        assert!(!CrisisWords::new(&[""]).matches("anything"));
    }
}

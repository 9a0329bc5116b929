//! How search text is folded, one definition for documents and queries on both backends:
//! lower case, Latin diacritics removed (`á` → `a`, `ß` → `ss`), combining marks of Latin,
//! Cyrillic and Arabic dropped, `ё` → `е`, and anything that is not part of a word turned into
//! one space. Thai, Cyrillic and Arabic letters stay themselves (Thai vowel signs included:
//! they are part of the word).

/// True for characters that separate words: white space, ASCII punctuation, the Latin-1
/// and general punctuation blocks, and the punctuation of the scripts the network writes in.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || c.is_ascii_punctuation()
        || matches!(c,
            '\u{00A0}'..='\u{00BF}'
            | '\u{00D7}' | '\u{00F7}'
            | '\u{2000}'..='\u{206F}'
            | '\u{2190}'..='\u{2BFF}'
            | '\u{3000}'..='\u{303F}'
            | '\u{060C}' | '\u{061B}' | '\u{061F}' | '\u{066A}'..='\u{066D}' | '\u{06D4}'
            | '\u{0E4F}' | '\u{0E5A}' | '\u{0E5B}'
            | '\u{FE30}'..='\u{FE4F}' | '\u{FF01}'..='\u{FF0F}')
}

/// Combining marks that only decorate a letter (diacritics, Arabic short vowels).
fn is_droppable_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}')
}

/// True for precomposed Latin letters with diacritics (and ligatures) that `deunicode`
/// spells in ASCII.
fn is_latin_extended(c: char) -> bool {
    matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}')
}

/// Folds `s` for search: see the module documentation. Words are separated by one space,
/// with none at either end.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let push = |out: &mut String, c: char, pending: &mut bool| {
        if *pending && !out.is_empty() {
            out.push(' ');
        }
        *pending = false;
        out.push(c);
    };
    for c in s.chars() {
        if is_separator(c) {
            pending_space = true;
            continue;
        }
        for l in c.to_lowercase() {
            if is_droppable_mark(l) {
                continue;
            }
            if is_latin_extended(l) {
                match deunicode::deunicode_char(l) {
                    Some(ascii) => {
                        for a in ascii.chars() {
                            if a.is_ascii_alphanumeric() {
                                push(&mut out, a.to_ascii_lowercase(), &mut pending_space);
                            } else {
                                pending_space = true;
                            }
                        }
                    }
                    None => push(&mut out, l, &mut pending_space),
                }
                continue;
            }
            let l = match l {
                'ё' => 'е',
                other => other,
            };
            push(&mut out, l, &mut pending_space);
        }
    }
    out
}

/// The folded words of a query, at most `max` of them, duplicates removed.
pub fn terms(q: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in fold(q).split(' ').filter(|w| !w.is_empty()) {
        if !out.iter().any(|o| o == w) {
            out.push(w.to_string());
        }
        if out.len() == max {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_diacritics_and_case_fold_away() {
        assert_eq!(
            fold("Colectivo Reducción de Daños, Bogotá"),
            "colectivo reduccion de danos bogota"
        );
        assert_eq!(fold("Straße"), "strasse");
        // Decomposed input (e + combining acute) folds like the composed letter.
        assert_eq!(fold("Bogota\u{0301}"), fold("Bogotá"));
    }

    #[test]
    fn other_scripts_keep_their_letters() {
        assert_eq!(fold("Фонд Андрея Рылькова"), "фонд андрея рылькова");
        assert_eq!(fold("Ёлка"), "елка");
        assert_eq!(fold("มูลนิธิรักษ์ไทย"), "มูลนิธิรักษ์ไทย");
        assert_eq!(fold("جَمعية الحد"), "جمعية الحد");
    }

    #[test]
    fn query_terms_are_folded_words() {
        assert_eq!(
            terms("  Harm-Reduction  bogotá harm ", 8),
            vec!["harm", "reduction", "bogota"]
        );
        assert_eq!(terms("a b c", 2), vec!["a", "b"]);
        assert!(terms("%_'\"", 8).is_empty());
    }
}

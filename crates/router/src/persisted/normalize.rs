//! The normal form operations are compared in for the safelist: the
//! document's tokens (apollo-parser's lexer) without what GraphQL ignores
//! (white space, commas, comments), one space between each two. Two texts
//! with the same normal form are the same document token for token; the
//! order of definitions still counts.

use apollo_parser::{Lexer, TokenKind};

/// The normal form of `text`; `text` as it is when it does not lex (so
/// that it still matches itself byte for byte).
pub(super) fn normalize(text: &str) -> String {
    let mut normal = String::with_capacity(text.len());
    for token in Lexer::new(text) {
        let Ok(token) = token else {
            return text.to_owned();
        };
        match token.kind() {
            TokenKind::Whitespace | TokenKind::Comma | TokenKind::Comment | TokenKind::Eof => {}
            _ => {
                if !normal.is_empty() {
                    normal.push(' ');
                }
                normal.push_str(token.data());
            }
        }
    }
    normal
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn ignored_tokens_do_not_count() {
        let a = normalize("query Q($id: ID!) { user(id: $id) { id, name } }");
        let b = normalize(
            "# a comment\nquery Q(\n  $id: ID!\n) {\n  user(id: $id) {\n    id\n    name # why\n  }\n}\n",
        );
        assert_eq!(a, b);
        // `$` is a token of its own: `$ id` is `$id`.
        assert_eq!(
            a,
            "query Q ( $ id : ID ! ) { user ( id : $ id ) { id name } }"
        );
        assert_eq!(
            a,
            normalize("query Q($ id: ID!) { user(id: $ id) { id name } }")
        );
    }

    #[test]
    fn other_tokens_count() {
        let base = normalize("{ user { id name } }");
        assert_ne!(base, normalize("{ user { name id } }"));
        assert_ne!(base, normalize("{ user { id names } }"));
        // Inside a string, white space is the value's.
        assert_ne!(
            normalize(r#"{ a(s: "x  y") }"#),
            normalize(r#"{ a(s: "x y") }"#)
        );
        assert_eq!(normalize(r#"{ a(s: "x, y") }"#), r#"{ a ( s : "x, y" ) }"#);
    }

    #[test]
    fn text_that_does_not_lex_stays_as_it_is() {
        assert_eq!(normalize("{ a ? }"), "{ a ? }");
        assert_eq!(normalize("{ a(s: \"open) }"), "{ a(s: \"open) }");
    }
}

//! A message's text with its web addresses as links, built as nodes (never parsed as HTML).

use leptos::prelude::*;

/// A piece of a message's text: plain text, or a web address shown as a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextPiece<'a> {
    /// Shown as it is.
    Text(&'a str),
    /// An `http://` or `https://` address, shown as a link.
    Link(&'a str),
}

/// Characters a web address in a message runs on with: printable ASCII except the ones that
/// end it in running text (quotes, angle brackets and the like). Chinese text often follows an
/// address without a space, so any other character ends it too.
fn in_address(c: char) -> bool {
    c.is_ascii_graphic()
        && !matches!(
            c,
            '<' | '>' | '"' | '\'' | '`' | '{' | '}' | '|' | '\\' | '^'
        )
}

/// Splits a message's text into plain text and `http://` / `https://` addresses. Nothing else
/// (`javascript:`, `data:`, `ftp:` …) becomes a link. Punctuation right after an address
/// (`。`, `,`, `.`, an unmatched `)`) stays text.
pub fn text_pieces(text: &str) -> Vec<TextPiece<'_>> {
    // ASCII lowercase keeps every byte offset of `text`.
    let lower = text.to_ascii_lowercase();
    let mut pieces = Vec::new();
    let (mut plain_from, mut from) = (0, 0);
    while from < text.len() {
        let Some(start) = ["http://", "https://"]
            .iter()
            .filter_map(|scheme| lower[from..].find(scheme).map(|i| from + i))
            .min()
        else {
            break;
        };
        let scheme_len = if lower[start..].starts_with("https://") {
            8
        } else {
            7
        };
        let mut end = text[start..]
            .find(|c: char| !in_address(c))
            .map_or(text.len(), |i| start + i);
        while end > start + scheme_len {
            let last = text[..end].chars().next_back().unwrap_or(' ');
            let unmatched_paren = last == ')'
                && text[start..end].matches('(').count() < text[start..end].matches(')').count();
            if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | ']' | '}') || unmatched_paren {
                end -= 1;
            } else {
                break;
            }
        }
        // Not glued to a word before it ("xhttp://"), and a host after the scheme.
        let glued = text[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let has_host = text[start + scheme_len..end]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '[');
        if glued || !has_host {
            from = start + scheme_len;
            continue;
        }
        if plain_from < start {
            pieces.push(TextPiece::Text(&text[plain_from..start]));
        }
        pieces.push(TextPiece::Link(&text[start..end]));
        plain_from = end;
        from = end;
    }
    if plain_from < text.len() {
        pieces.push(TextPiece::Text(&text[plain_from..]));
    }
    pieces
}

/// A message's text as text nodes, its web addresses as links that open in a new tab. Built as
/// nodes: the text is never parsed as HTML.
pub fn linked_text(text: &str) -> AnyView {
    text_pieces(text)
        .into_iter()
        .map(|piece| match piece {
            TextPiece::Text(t) => t.to_owned().into_any(),
            TextPiece::Link(url) => view! {
                <a href=url.to_owned() target="_blank" rel="noopener noreferrer">{url.to_owned()}</a>
            }
            .into_any(),
        })
        .collect_view()
        .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_addresses_become_links() {
        use TextPiece::{Link, Text};
        assert_eq!(
            text_pieces("看这里 https://example.com/a?b=1&c=(2)。谢谢"),
            vec![
                Text("看这里 "),
                Link("https://example.com/a?b=1&c=(2)"),
                Text("。谢谢")
            ]
        );
        assert_eq!(
            text_pieces("HTTP://X.CN/p, 和 http://a.b."),
            vec![
                Link("HTTP://X.CN/p"),
                Text(", 和 "),
                Link("http://a.b"),
                Text(".")
            ]
        );
        assert_eq!(
            text_pieces("(见 https://a.cn/x)"),
            vec![Text("(见 "), Link("https://a.cn/x"), Text(")")]
        );
        // Everything else stays text, and markup around an address never joins it.
        for plain in [
            "javascript:alert(1)",
            "data:text/html,<b>hi</b>",
            "ftp://files.example.com/a",
            "xhttp://glued.example.com",
            "http://",
            "https:// 空的",
            "",
        ] {
            assert_eq!(
                text_pieces(plain),
                if plain.is_empty() {
                    vec![]
                } else {
                    vec![Text(plain)]
                },
                "{plain}"
            );
        }
        assert_eq!(
            text_pieces("<a href=\"https://e.cn/x\">链接</a>"),
            vec![
                Text("<a href=\""),
                Link("https://e.cn/x"),
                Text("\">链接</a>")
            ]
        );
    }
}

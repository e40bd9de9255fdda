//! The decoded view of a JSON document: every member with the byte range it
//! occupies in the text, found by scanning the text itself (RFC 8259).
//!
//! serde_json reads values but forgets where they were; the inspector needs
//! the positions, so this small scanner walks the same bytes.

use crate::artifact::Field;

/// The members of a JSON document, with byte ranges; empty if it is not JSON.
pub fn fields(text: &str) -> Vec<Field> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    scanner.skip_ws();
    match scanner.value("document") {
        Some(root) => {
            scanner.skip_ws();
            if scanner.pos == scanner.bytes.len() {
                root.children
            } else {
                Vec::new()
            }
        }
        None => Vec::new(),
    }
}

/// Deeper documents are shown only to this depth (and rejected past it).
const MAX_DEPTH: usize = 32;

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while matches!(self.bytes.get(self.pos), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.bytes.get(self.pos) == Some(&b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn text(&self, start: usize, end: usize) -> String {
        String::from_utf8_lossy(&self.bytes[start..end]).into_owned()
    }

    /// A value starting at `pos`, named `name`.
    fn value(&mut self, name: &str) -> Option<Field> {
        let start = self.pos;
        let (value, children) = match *self.bytes.get(self.pos)? {
            b'{' => {
                let children = self.object()?;
                (format!("{{{} member(s)}}", children.len()), children)
            }
            b'[' => {
                let children = self.array()?;
                (format!("[{} item(s)]", children.len()), children)
            }
            b'"' => {
                let s = self.string()?;
                (s, Vec::new())
            }
            _ => {
                while matches!(self.bytes.get(self.pos), Some(c) if !matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                {
                    self.pos += 1;
                }
                if self.pos == start {
                    return None;
                }
                let literal = self.text(start, self.pos);
                let valid = matches!(literal.as_str(), "true" | "false" | "null")
                    || literal.parse::<f64>().is_ok();
                if !valid {
                    return None;
                }
                (literal, Vec::new())
            }
        };
        Some(
            Field::new(
                name,
                shorten(&value),
                "",
                "RFC 8259",
                start,
                self.pos - start,
            )
            .with_children(children),
        )
    }

    fn string(&mut self) -> Option<String> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.pos;
        loop {
            match *self.bytes.get(self.pos)? {
                b'"' => break,
                b'\\' => self.pos += 2,
                _ => self.pos += 1,
            }
        }
        let raw = self.text(start, self.pos.min(self.bytes.len()));
        self.pos += 1;
        // Decode escapes through serde_json, which knows them all.
        Some(serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or(raw))
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn object(&mut self) -> Option<Vec<Field>> {
        self.nested(|s| {
            s.eat(b'{');
            let mut members = Vec::new();
            s.skip_ws();
            if s.eat(b'}') {
                return Some(members);
            }
            loop {
                s.skip_ws();
                let start = s.pos;
                let key = s.string()?;
                s.skip_ws();
                if !s.eat(b':') {
                    return None;
                }
                s.skip_ws();
                let mut field = s.value(&key)?;
                // The member's range covers `"key": value`.
                field.len = s.pos - start;
                field.offset = start;
                members.push(field);
                s.skip_ws();
                if s.eat(b',') {
                    continue;
                }
                if s.eat(b'}') {
                    return Some(members);
                }
                return None;
            }
        })
    }

    fn array(&mut self) -> Option<Vec<Field>> {
        self.nested(|s| {
            s.eat(b'[');
            let mut items = Vec::new();
            s.skip_ws();
            if s.eat(b']') {
                return Some(items);
            }
            loop {
                s.skip_ws();
                let name = format!("[{}]", items.len());
                items.push(s.value(&name)?);
                s.skip_ws();
                if s.eat(b',') {
                    continue;
                }
                if s.eat(b']') {
                    return Some(items);
                }
                return None;
            }
        })
    }
}

/// Long values (base64 blobs, tokens) are abbreviated in the tree; the bytes
/// stay whole in the artifact.
fn shorten(value: &str) -> String {
    const MAX: usize = 96;
    if value.chars().count() <= MAX {
        return value.to_string();
    }
    let head: String = value.chars().take(MAX).collect();
    format!("{head}… ({} characters)", value.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_carry_their_byte_ranges() {
        let text = r#"{"kid": "abc", "n": [1, 2], "o": {"x": null}}"#;
        let f = fields(text);
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].name, "kid");
        assert_eq!(&text[f[0].range()], r#""kid": "abc""#);
        assert_eq!(f[0].value, "abc");
        assert_eq!(&text[f[1].range()], r#""n": [1, 2]"#);
        assert_eq!(f[1].children.len(), 2);
        assert_eq!(&text[f[1].children[1].range()], "2");
        assert_eq!(&text[f[2].children[0].range()], r#""x": null"#);
    }

    #[test]
    fn escapes_are_decoded_in_values() {
        let f = fields(r#"{"a": "x\"y\u00e9"}"#);
        assert_eq!(f[0].value, "x\"yé");
    }

    #[test]
    fn malformed_text_gives_no_fields_and_no_panic() {
        for bad in [
            "",
            "{",
            r#"{"a"}"#,
            r#"{"a": }"#,
            "[1,",
            r#"{"a": tru}"#,
            "{} x",
            "\"unterminated",
            "[[[[",
            r#"{"a":"\"#,
        ] {
            assert!(fields(bad).is_empty(), "{bad:?}");
        }
        let deep = "[".repeat(1000) + &"]".repeat(1000);
        assert!(fields(&deep).is_empty());
    }
}

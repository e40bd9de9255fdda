//! XML as the WS-* and SAML messages of federation carry it: a small,
//! strict parser, Exclusive XML Canonicalization 1.0 without comments
//! (W3C `xml-exc-c14n`), and the decoded view.
//!
//! The parser takes what those messages use (elements, attributes,
//! namespace declarations, text, CDATA, comments, the five predefined
//! entities and character references) and refuses the rest with the byte
//! where it stopped: a DOCTYPE (entity expansion is how XML bombs work),
//! processing instructions after the XML declaration, anything past the
//! root element but whitespace and comments, and nesting deeper than
//! [`MAX_DEPTH`].
//!
//! Canonicalization follows the W3C recommendation "Exclusive XML
//! Canonicalization Version 1.0" §3 over Canonical XML 1.0 §2: namespace
//! declarations only where a prefix is visibly used and not already in
//! force in the output, attributes in (namespace URI, local name) order,
//! empty elements written as start and end tags, and the fixed escapes of
//! text and attribute values. It is what XML Signature (`xmldsig-core`
//! §4.4.3, §6.6.4) hashes and signs.

use crate::artifact::Field;
use std::ops::Range;

/// The deepest nesting the parser accepts.
pub const MAX_DEPTH: usize = 64;
/// The most attributes one element may have, and the most namespace
/// declarations in force at once: real messages have a few dozen, and the
/// limits keep every pass over them linear in the input.
pub const MAX_ATTRIBUTES: usize = 256;

/// A namespace name (`xmlns` attribute names are bound to none).
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// A node of an element's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

/// An element as written: its qualified name, its attributes (namespace
/// declarations included) in document order, its content, and where it
/// lies in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// From `<` of the start tag to past `>` of the end tag.
    pub span: Range<usize>,
    /// The namespace bindings in force on the element (its own
    /// declarations included), prefix `""` for the default namespace.
    pub scope: Vec<(String, String)>,
}

fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map_or("", |(p, _)| p)
}

fn local_of(qname: &str) -> &str {
    qname.split_once(':').map_or(qname, |(_, l)| l)
}

impl Element {
    /// The name after the prefix.
    pub fn local_name(&self) -> &str {
        local_of(&self.name)
    }

    /// The namespace URI a prefix is bound to here.
    pub fn namespace_of(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        self.scope
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, uri)| uri.as_str())
            .filter(|uri| !uri.is_empty() || prefix.is_empty())
    }

    /// The element's namespace URI (empty for none).
    pub fn namespace(&self) -> &str {
        self.namespace_of(prefix_of(&self.name)).unwrap_or("")
    }

    /// Whether the element is `local` in namespace `ns`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local_name() == local && self.namespace() == ns
    }

    /// An attribute's value by its name as written.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element that is `local` in `ns`.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, local))
    }

    /// The first element of the subtree (itself included, depth first)
    /// that is `local` in `ns`.
    pub fn find(&self, ns: &str, local: &str) -> Option<&Element> {
        if self.is(ns, local) {
            return Some(self);
        }
        self.elements().find_map(|e| e.find(ns, local))
    }

    /// The element's text content (its text children, concatenated).
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|n| match n {
                Node::Text(t) => Some(t.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }
}

/// Why the text is not XML this parser accepts, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    pub at: usize,
    pub what: String,
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not well-formed XML at byte {}: {}", self.at, self.what)
    }
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn fail<T>(&self, what: impl Into<String>) -> Result<T, XmlError> {
        Err(XmlError {
            at: self.at,
            what: what.into(),
        })
    }

    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.at += s.len();
            true
        } else {
            false
        }
    }

    fn skip_space(&mut self) {
        let n = self.rest().len()
            - self
                .rest()
                .trim_start_matches([' ', '\t', '\r', '\n'])
                .len();
        self.at += n;
    }

    fn until(&mut self, end: &str, what: &str) -> Result<&'a str, XmlError> {
        match self.rest().find(end) {
            Some(i) => {
                let s = &self.rest()[..i];
                self.at += i + end.len();
                Ok(s)
            }
            None => self.fail(format!("{what} is not closed: \"{end}\" never comes")),
        }
    }

    fn name(&mut self) -> Result<&'a str, XmlError> {
        let rest = self.rest();
        let len = rest
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_alphanumeric() || c == '_' || c == ':' || (i > 0 && (c == '-' || c == '.')))
            })
            .map_or(rest.len(), |(i, _)| i);
        if len == 0 {
            return self.fail("a name was expected");
        }
        self.at += len;
        Ok(&rest[..len])
    }

    /// Comments, and whitespace around them, between markup.
    fn misc(&mut self) -> Result<(), XmlError> {
        loop {
            self.skip_space();
            if self.eat("<!--") {
                self.until("-->", "a comment")?;
            } else if self.rest().starts_with("<!DOCTYPE") {
                return self
                    .fail("a DOCTYPE is refused: entity declarations are how XML bombs expand");
            } else if self.rest().starts_with("<?") {
                return self.fail("a processing instruction is refused");
            } else {
                return Ok(());
            }
        }
    }

    /// Decodes entity and character references; `attribute` applies
    /// attribute-value normalization (literal whitespace becomes a space).
    fn decode(&self, raw: &str, start: usize, attribute: bool) -> Result<String, XmlError> {
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.find(['&', '<', '\r', '\t', '\n']) {
            out.push_str(&rest[..i]);
            let c = rest.as_bytes()[i];
            rest = &rest[i..];
            match c {
                b'<' => {
                    return Err(XmlError {
                        at: start + raw.len() - rest.len(),
                        what: "\"<\" inside an attribute value".into(),
                    })
                }
                b'\r' => {
                    // Line-end normalization: CR LF and lone CR become LF.
                    out.push(if attribute { ' ' } else { '\n' });
                    rest = rest.strip_prefix("\r\n").unwrap_or(&rest[1..]);
                }
                b'\t' | b'\n' => {
                    out.push(if attribute { ' ' } else { c as char });
                    rest = &rest[1..];
                }
                _ => {
                    let at = start + raw.len() - rest.len();
                    let Some(end) = rest.find(';') else {
                        return Err(XmlError {
                            at,
                            what: "\"&\" begins no reference".into(),
                        });
                    };
                    let name = &rest[1..end];
                    let ch = match name {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => {
                            let code = if let Some(hex) = name.strip_prefix("#x") {
                                u32::from_str_radix(hex, 16).ok()
                            } else if let Some(dec) = name.strip_prefix('#') {
                                dec.parse().ok()
                            } else {
                                None
                            };
                            match code.and_then(char::from_u32) {
                                Some(c) if c != '\0' => c,
                                _ => {
                                    return Err(XmlError {
                                        at,
                                        what: format!("&{name}; is not a reference this parser knows (only the five predefined entities and character references)"),
                                    })
                                }
                            }
                        }
                    };
                    out.push(ch);
                    rest = &rest[end + 1..];
                }
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    fn element(&mut self, depth: usize, scope: &[(String, String)]) -> Result<Element, XmlError> {
        if depth > MAX_DEPTH {
            return self.fail(format!("elements nest deeper than {MAX_DEPTH}"));
        }
        let start = self.at;
        if !self.eat("<") {
            return self.fail("an element was expected");
        }
        let name = self.name()?.to_string();
        let mut attributes: Vec<(String, String)> = Vec::new();
        let empty = loop {
            let before = self.at;
            self.skip_space();
            if self.eat("/>") {
                break true;
            }
            if self.eat(">") {
                break false;
            }
            if self.at == before {
                return self.fail(format!("the start tag of <{name}> is malformed"));
            }
            if attributes.len() == MAX_ATTRIBUTES {
                return self.fail(format!(
                    "<{name}> has more than {MAX_ATTRIBUTES} attributes"
                ));
            }
            let attribute = self.name()?.to_string();
            self.skip_space();
            if !self.eat("=") {
                return self.fail(format!("attribute {attribute} has no \"=\""));
            }
            self.skip_space();
            let quote = if self.eat("\"") {
                "\""
            } else if self.eat("'") {
                "'"
            } else {
                return self.fail(format!("the value of {attribute} is not quoted"));
            };
            let value_start = self.at;
            let raw = self.until(quote, "an attribute value")?;
            let value = self.decode(raw, value_start, true)?;
            if attributes.iter().any(|(n, _)| *n == attribute) {
                return self.fail(format!("attribute {attribute} appears twice"));
            }
            attributes.push((attribute, value));
        };
        let mut own = scope.to_vec();
        for (n, v) in &attributes {
            if n == "xmlns" {
                own.push((String::new(), v.clone()));
            } else if let Some(p) = n.strip_prefix("xmlns:") {
                own.push((p.to_string(), v.clone()));
            }
        }
        if own.len() > MAX_ATTRIBUTES {
            return self.fail(format!(
                "more than {MAX_ATTRIBUTES} namespace declarations are in force at <{name}>"
            ));
        }
        let mut element = Element {
            name,
            attributes,
            children: Vec::new(),
            span: start..start,
            scope: own,
        };
        for qname in std::iter::once(element.name.as_str())
            .chain(element.attributes.iter().map(|(n, _)| n.as_str()))
        {
            let prefix = prefix_of(qname);
            if !prefix.is_empty() && prefix != "xmlns" && element.namespace_of(prefix).is_none() {
                return self.fail(format!(
                    "the prefix \"{prefix}\" of {qname} is not declared"
                ));
            }
        }
        if !empty {
            loop {
                let text_start = self.at;
                let i = self.rest().find('<').unwrap_or(self.rest().len());
                if i > 0 {
                    let raw = &self.rest()[..i];
                    self.at += i;
                    let text = self.decode(raw, text_start, false)?;
                    if text.contains(']') && raw.contains("]]>") {
                        return self.fail("\"]]>\" in text");
                    }
                    push_text(&mut element.children, text);
                }
                if self.rest().is_empty() {
                    return self.fail(format!("<{}> is never closed", element.name));
                }
                if self.eat("</") {
                    let close = self.name()?;
                    if close != element.name {
                        return self.fail(format!("</{close}> closes <{}>", element.name));
                    }
                    self.skip_space();
                    if !self.eat(">") {
                        return self.fail(format!("the end tag </{close}> is malformed"));
                    }
                    break;
                } else if self.eat("<!--") {
                    self.until("-->", "a comment")?;
                } else if self.eat("<![CDATA[") {
                    let text = self.until("]]>", "a CDATA section")?.replace("\r\n", "\n");
                    push_text(&mut element.children, text);
                } else if self.rest().starts_with("<?") || self.rest().starts_with("<!") {
                    return self.fail(
                        "a processing instruction or declaration inside an element is refused",
                    );
                } else {
                    let child = self.element(depth + 1, &element.scope)?;
                    element.children.push(Node::Element(child));
                }
            }
        }
        element.span = start..self.at;
        Ok(element)
    }
}

fn push_text(children: &mut Vec<Node>, text: String) {
    if let Some(Node::Text(t)) = children.last_mut() {
        t.push_str(&text);
    } else {
        children.push(Node::Text(text));
    }
}

/// Parses a document: an optional XML declaration, comments, one root
/// element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut p = Parser { text, at: 0 };
    p.eat("\u{feff}");
    if p.rest().starts_with("<?xml") {
        p.until("?>", "the XML declaration")?;
    }
    p.misc()?;
    let root = p.element(0, &[])?;
    p.misc()?;
    if !p.rest().is_empty() {
        return p.fail("content after the root element");
    }
    Ok(root)
}

/// Escapes text content as canonical XML writes it.
pub fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// Escapes an attribute value as canonical XML writes it.
pub fn escape_attribute(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// The Exclusive XML Canonicalization (without comments) of the subtree
/// at `apex`, leaving out the subtrees `omit` says to (XML Signature's
/// enveloped-signature transform leaves out the Signature element).
pub fn exc_c14n(apex: &Element, omit: &dyn Fn(&Element) -> bool) -> String {
    let mut out = String::new();
    write_c14n(apex, &[], omit, &mut out);
    out
}

fn write_c14n(
    e: &Element,
    rendered: &[(String, String)],
    omit: &dyn Fn(&Element) -> bool,
    out: &mut String,
) {
    // Visibly utilized prefixes (§3 of exc-c14n): the element's own and
    // those of its attributes (unprefixed attributes use none).
    let mut used: Vec<&str> = vec![prefix_of(&e.name)];
    for (n, _) in &e.attributes {
        let p = prefix_of(n);
        if !p.is_empty() && p != "xmlns" && !n.starts_with("xmlns") && !used.contains(&p) {
            used.push(p);
        }
    }
    let mut declarations: Vec<(String, String)> = Vec::new();
    for p in used {
        if p == "xml" {
            continue;
        }
        let uri = e.namespace_of(p).unwrap_or("").to_string();
        let in_force = rendered
            .iter()
            .rev()
            .find(|(rp, _)| rp == p)
            .map(|(_, u)| u.as_str())
            .unwrap_or("");
        if uri != in_force {
            declarations.push((p.to_string(), uri));
        }
    }
    declarations.sort();
    let mut attributes: Vec<(&str, &str, &str, &str)> = e
        .attributes
        .iter()
        .filter(|(n, _)| n != "xmlns" && !n.starts_with("xmlns:"))
        .map(|(n, v)| {
            let p = prefix_of(n);
            let ns = if p.is_empty() {
                ""
            } else {
                e.namespace_of(p).unwrap_or("")
            };
            (ns, local_of(n), n.as_str(), v.as_str())
        })
        .collect();
    attributes.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    out.push('<');
    out.push_str(&e.name);
    for (p, uri) in &declarations {
        if p.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(p);
            out.push_str("=\"");
        }
        escape_attribute(uri, out);
        out.push('"');
    }
    for (_, _, name, value) in attributes {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape_attribute(value, out);
        out.push('"');
    }
    out.push('>');
    let mut inner = rendered.to_vec();
    inner.extend(declarations);
    for child in &e.children {
        match child {
            Node::Text(t) => escape_text(t, out),
            Node::Element(c) if !omit(c) => write_c14n(c, &inner, omit, out),
            Node::Element(_) => {}
        }
    }
    out.push_str("</");
    out.push_str(&e.name);
    out.push('>');
}

/// The decoded view of an XML document: an element per field, its
/// attributes and text as leaves, with their byte ranges.
pub fn fields(text: &str) -> Result<Vec<Field>, XmlError> {
    let root = parse(text)?;
    Ok(vec![element_field(text, &root)])
}

fn element_field(text: &str, e: &Element) -> Field {
    let mut children = Vec::new();
    // Attributes: found in the start tag's text, for their ranges.
    let tag_end = text[e.span.clone()]
        .find('>')
        .map_or(e.span.end, |i| e.span.start + i + 1);
    for (name, value) in &e.attributes {
        let tag = &text[e.span.start..tag_end];
        let at = tag
            .find(&format!(" {name}="))
            .or_else(|| tag.find(&format!("\n{name}=")))
            .or_else(|| tag.find(&format!("\t{name}=")))
            .map_or(e.span.start, |i| e.span.start + i + 1);
        let len = text[at..tag_end]
            .find(['"', '\''])
            .and_then(|q| {
                let quote = &text[at + q..at + q + 1];
                text[at + q + 1..tag_end].find(quote).map(|end| q + end + 2)
            })
            .unwrap_or(0);
        let note = if name.starts_with("xmlns") {
            "a namespace declaration"
        } else {
            "an attribute"
        };
        children.push(Field::new(
            format!("@{name}"),
            value.clone(),
            note,
            "",
            at,
            len,
        ));
    }
    let has_elements = e.elements().next().is_some();
    for child in e.elements() {
        children.push(element_field(text, child));
    }
    let value = if has_elements {
        String::new()
    } else {
        e.text()
    };
    let namespace = e.namespace();
    Field::new(
        e.name.clone(),
        value,
        if namespace.is_empty() {
            "an element in no namespace".to_string()
        } else {
            format!("an element of {namespace}")
        },
        "",
        e.span.start,
        e.span.len(),
    )
    .with_children(children)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(text: &str) -> String {
        exc_c14n(&parse(text).unwrap(), &|_| false)
    }

    #[test]
    fn canonical_form_follows_the_recommendation() {
        // Attribute order, empty elements, namespace declarations moved to
        // where they are used, escapes (exc-c14n §3, c14n §2.3).
        assert_eq!(
            c14n(
                r#"<?xml version="1.0"?><a:r xmlns:a="urn:a" xmlns:unused="urn:u" z="1" b='x"y'><a:e/><f>&lt;&amp;&gt;&#x41;</f></a:r>"#
            ),
            r#"<a:r xmlns:a="urn:a" b="x&quot;y" z="1"><a:e></a:e><f>&lt;&amp;&gt;A</f></a:r>"#
        );
        // A subtree renders the declarations it uses from its ancestors.
        let root = parse(r#"<ds:S xmlns:ds="urn:ds"><ds:I><ds:M A="1"/></ds:I></ds:S>"#).unwrap();
        let inner = root.child("urn:ds", "I").unwrap();
        assert_eq!(
            exc_c14n(inner, &|_| false),
            r#"<ds:I xmlns:ds="urn:ds"><ds:M A="1"></ds:M></ds:I>"#
        );
        // Prefixed attributes sort by namespace URI after unprefixed ones.
        assert_eq!(
            c14n(r#"<e xmlns:b="urn:b" xmlns:a="urn:z" a:x="1" b:y="2" c="3"/>"#),
            r#"<e xmlns:a="urn:z" xmlns:b="urn:b" c="3" b:y="2" a:x="1"></e>"#
        );
        // Omitted subtrees leave their surrounding text.
        let root = parse("<r> <sig>x</sig> </r>").unwrap();
        assert_eq!(exc_c14n(&root, &|e| e.name == "sig"), "<r>  </r>");
    }

    #[test]
    fn hostile_or_broken_xml_is_refused_with_the_place() {
        for (text, says) in [
            ("<!DOCTYPE r [<!ENTITY a \"b\">]><r/>", "DOCTYPE"),
            ("<r>&bomb;</r>", "&bomb;"),
            ("<r><a></r>", "</r> closes <a>"),
            ("<r a='1' a='2'/>", "appears twice"),
            ("<p:r/>", "not declared"),
            ("<r/><s/>", "after the root"),
            ("<r>", "never closed"),
            ("<r a=1/>", "not quoted"),
            ("<r><?pi x?></r>", "processing instruction"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.to_string().contains(says), "{text}: {e}");
        }
        let deep = "<a>".repeat(MAX_DEPTH + 2) + &"</a>".repeat(MAX_DEPTH + 2);
        assert!(parse(&deep).unwrap_err().what.contains("deeper"));
        let wide: String = (0..=MAX_ATTRIBUTES).map(|i| format!(" a{i}=''")).collect();
        assert!(parse(&format!("<r{wide}/>"))
            .unwrap_err()
            .what
            .contains("attributes"));
        let spaces: String = (0..=MAX_ATTRIBUTES)
            .map(|i| format!(" xmlns:p{i}='u'"))
            .collect();
        assert!(parse(&format!("<r{spaces}/>")).is_err());
    }

    #[test]
    fn the_view_gives_each_attribute_and_element_its_bytes() {
        let text = r#"<r xmlns="urn:r" id="7"><v>x</v></r>"#;
        let view = fields(text).unwrap();
        let root = &view[0];
        assert_eq!(root.range(), 0..text.len());
        let id = root.children.iter().find(|f| f.name == "@id").unwrap();
        assert_eq!(&text[id.range()], r#"id="7""#);
        let v = root.children.iter().find(|f| f.name == "v").unwrap();
        assert_eq!((&text[v.range()], v.value.as_str()), ("<v>x</v>", "x"));
    }
}

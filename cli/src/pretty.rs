//! A compact-but-readable JSON layout: objects one member per line, arrays of scalars on one line
//! (`"bias": [0.1, -0.2]`), arrays of arrays one row per line. It re-lays out the compact text that
//! `serde_json` wrote (so key order and number formatting are serde_json's own).

/// A parsed compact JSON text, scalars and keys kept verbatim.
enum Node<'a> {
    Scalar(&'a str),
    Array(Vec<Node<'a>>),
    Object(Vec<(&'a str, Node<'a>)>),
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    /// A string token, quotes and escapes included.
    fn string(&mut self) -> Option<&'a str> {
        let b = self.s.as_bytes();
        let start = self.pos;
        if b.get(self.pos) != Some(&b'"') {
            return None;
        }
        self.pos += 1;
        while let Some(&c) = b.get(self.pos) {
            self.pos += 1;
            match c {
                b'\\' => self.pos += 1,
                b'"' => return self.s.get(start..self.pos),
                _ => {}
            }
        }
        None
    }

    fn value(&mut self) -> Option<Node<'a>> {
        match self.peek()? {
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                if self.peek()? == b']' {
                    self.pos += 1;
                    return Some(Node::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            return Some(Node::Array(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'{' => {
                self.pos += 1;
                let mut members = Vec::new();
                if self.peek()? == b'}' {
                    self.pos += 1;
                    return Some(Node::Object(members));
                }
                loop {
                    let key = self.string()?;
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                    members.push((key, self.value()?));
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            return Some(Node::Object(members));
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(Node::Scalar),
            _ => {
                let start = self.pos;
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b']' | b'}') {
                        break;
                    }
                    self.pos += 1;
                }
                (self.pos > start).then(|| Node::Scalar(&self.s[start..self.pos]))
            }
        }
    }
}

fn write(node: &Node, indent: usize, out: &mut String) {
    let pad = |n: usize, out: &mut String| out.extend(std::iter::repeat_n(' ', n));
    match node {
        Node::Scalar(s) => out.push_str(s),
        Node::Array(items) if items.iter().all(|i| matches!(i, Node::Scalar(_))) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(item, indent, out);
            }
            out.push(']');
        }
        Node::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                pad(indent + 2, out);
                write(item, indent + 2, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            pad(indent, out);
            out.push(']');
        }
        Node::Object(members) if members.is_empty() => out.push_str("{}"),
        Node::Object(members) => {
            out.push_str("{\n");
            for (i, (key, value)) in members.iter().enumerate() {
                pad(indent + 2, out);
                out.push_str(key);
                out.push_str(": ");
                write(value, indent + 2, out);
                out.push_str(if i + 1 < members.len() { ",\n" } else { "\n" });
            }
            pad(indent, out);
            out.push('}');
        }
    }
}

/// Re-lay out compact JSON (as written by `serde_json::to_string`); `None` if it is not.
pub fn layout(compact: &str) -> Option<String> {
    let mut p = Parser { s: compact, pos: 0 };
    let node = p.value()?;
    if p.pos != compact.len() {
        return None;
    }
    let mut out = String::with_capacity(compact.len() * 2);
    write(&node, 0, &mut out);
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_and_round_trips() {
        let v = serde_json::json!({
            "a": [1.0, -2.5e-7],
            "m": [[], [1, 2], [3]],
            "s": "x, ] } \" \\ [",
            "e": {},
            "o": [{"k": null}, true],
        });
        let compact = serde_json::to_string(&v).unwrap();
        let pretty = layout(&compact).unwrap();
        assert!(pretty.contains("\"a\": [1.0, -2.5e-7]"), "{pretty}");
        assert!(pretty.contains("    [1, 2],\n"), "{pretty}");
        let back: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back, v);
        assert!(layout("[1,").is_none());
    }
}

//! YAML text to a tree of nodes with their positions, tags and styles, through the event parser
//! (saphyr-parser, the only place that names it). Aliases point at the anchored node (shared, not
//! copied); consumers count what they visit so alias bombs stop early.

use super::YamlError;
use super::text;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use std::collections::HashMap;
use std::rc::Rc;

/// How deep collections may nest. Real kind configs and kubeconfigs stay far below; the limit
/// keeps decoding (which recurses) away from the stack's end.
pub(crate) const MAX_DEPTH: usize = 200;

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// One node and where it starts (1-based line and column).
#[derive(Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    /// The explicit tag in short form (`!!int`, `!foo`, `!`), if one was written.
    pub tag: Option<String>,
    pub line: usize,
    pub col: usize,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Scalar {
        value: String,
        style: Style,
    },
    Seq(Vec<Rc<Node>>),
    Map(Vec<(Rc<Node>, Rc<Node>)>),
    /// `*name`: the anchored node.
    Alias(Rc<Node>),
}

impl Node {
    /// The node an alias stands for (the node itself otherwise).
    pub fn target(&self) -> &Node {
        match &self.kind {
            Kind::Alias(t) => t.target(),
            _ => self,
        }
    }

    /// `(line, column)`.
    pub fn position(&self) -> (usize, usize) {
        (self.line, self.col)
    }

    /// A null document, for empty input.
    pub fn empty() -> Node {
        Node {
            kind: Kind::Scalar {
                value: String::new(),
                style: Style::Plain,
            },
            tag: None,
            line: 1,
            col: 1,
        }
    }
}

/// The documents of a stream and how many nodes were made (the budget for alias expansion).
pub(crate) struct Stream {
    pub documents: Vec<Rc<Node>>,
    pub nodes: usize,
}

/// Parses `text` into documents; with `first_only`, stops after the first one (kind reads only
/// the first document of a config, and never looks at the rest).
pub(crate) fn parse(text: &str, first_only: bool) -> Result<Stream, YamlError> {
    text::check_characters(text)?;
    check_version_directives(text)?;
    let mut text = std::borrow::Cow::Borrowed(text);
    // saphyr-parser refuses a tab between `key:` and a plain value (`name:\tx`), which YAML
    // allows and go-yaml reads. Such a tab only separates, so it is replaced by a space at the
    // place the parser names (same column) and the text parsed again.
    for _ in 0..1000 {
        match parse_text(&text, first_only) {
            Err(TabAfterColon(index)) => match space_out_tabs_before(&text, index) {
                Some(fixed) => text = std::borrow::Cow::Owned(fixed),
                None => break,
            },
            Ok(result) => return result,
        }
    }
    parse_text(&text, first_only).unwrap_or_else(|TabAfterColon(index)| {
        Err(YamlError {
            message: "':' must be followed by a space".into(),
            location: Some(text::next_position(&text[..byte_offset(&text, index)])),
        })
    })
}

/// The character index where saphyr-parser refused a tab after a `:`.
struct TabAfterColon(usize);

fn byte_offset(text: &str, char_index: usize) -> usize {
    text.char_indices()
        .nth(char_index)
        .map_or(text.len(), |(at, _)| at)
}

/// `text` with the tabs between the `:` before `char_index` and `char_index` turned into spaces.
fn space_out_tabs_before(text: &str, char_index: usize) -> Option<String> {
    let end = byte_offset(text, char_index);
    let before = &text[..end];
    let gap = before.len() - before.trim_end_matches([' ', '\t']).len();
    let start = end - gap;
    if gap == 0 || !text[..start].ends_with(':') || !text[start..end].contains('\t') {
        return None;
    }
    Some(format!(
        "{}{}{}",
        &text[..start],
        " ".repeat(gap),
        &text[end..]
    ))
}

fn parse_text(text: &str, first_only: bool) -> Result<Result<Stream, YamlError>, TabAfterColon> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    let mut documents = Vec::new();
    while let Some(event) = parser.next_event() {
        let (event, span) = match event {
            Ok(event) => event,
            Err(e) if e.info() == "':' must be followed by a valid YAML whitespace" => {
                return Err(TabAfterColon(e.marker().index()));
            }
            Err(e) => return Ok(Err(scan_error(e))),
        };
        match event {
            Event::StreamEnd => break,
            Event::DocumentEnd => {
                if let Some(root) = builder.root.take() {
                    documents.push(root);
                }
                builder.anchors.clear();
                if first_only && !documents.is_empty() {
                    break;
                }
            }
            other => {
                if let Err(e) = builder.event(other, span) {
                    return Ok(Err(e));
                }
            }
        }
    }
    Ok(Ok(Stream {
        documents,
        nodes: builder.nodes,
    }))
}

fn scan_error(err: ScanError) -> YamlError {
    let mark = err.marker();
    let message = match err.info() {
        "recursion limit exceeded" => {
            format!("collections are nested more than {MAX_DEPTH} levels deep")
        }
        info => info.to_string(),
    };
    YamlError {
        message,
        location: Some((mark.line(), mark.col() + 1)),
    }
}

/// go-yaml (kind, kubectl) accepts only `%YAML 1.1` ("found incompatible YAML document").
fn check_version_directives(text: &str) -> Result<(), YamlError> {
    for (index, line) in text.split(['\n', '\r']).enumerate() {
        let Some(rest) = line.strip_prefix("%YAML") else {
            continue;
        };
        if !rest.starts_with([' ', '\t']) {
            continue;
        }
        let version = rest.split('#').next().unwrap_or("").trim();
        if version != "1.1" {
            return Err(YamlError {
                message: format!(
                    "%YAML {version}: found incompatible YAML document (kind and kubectl read YAML 1.1 only; remove the directive)"
                ),
                location: Some((line_number(text, index), 1)),
            });
        }
    }
    Ok(())
}

/// The 1-based line of the `index`-th piece of `text` split at every `\n` and `\r` (a `\r\n`
/// makes an empty piece that is not a line of its own).
fn line_number(text: &str, index: usize) -> usize {
    let prefix: usize = text
        .split(['\n', '\r'])
        .take(index)
        .map(|piece| piece.len() + 1)
        .sum();
    text::next_position(&text[..prefix.min(text.len())]).0
}

enum Frame {
    Seq {
        head: Head,
        items: Vec<Rc<Node>>,
    },
    Map {
        head: Head,
        pairs: Vec<(Rc<Node>, Rc<Node>)>,
        key: Option<Rc<Node>>,
    },
}

struct Head {
    anchor: usize,
    tag: Option<String>,
    line: usize,
    col: usize,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Rc<Node>>,
    root: Option<Rc<Node>>,
    nodes: usize,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let (line, col) = (span.start.line(), span.start.col() + 1);
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let node = Node {
                    kind: Kind::Scalar {
                        value: value.into_owned(),
                        style,
                    },
                    tag: tag.map(|t| short_tag(&t)),
                    line,
                    col,
                };
                self.attach(node, anchor)
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(YamlError {
                        message: "an alias refers to the node that contains it".into(),
                        location: Some((line, col)),
                    });
                };
                let node = Node {
                    kind: Kind::Alias(target),
                    tag: None,
                    line,
                    col,
                };
                self.attach(node, 0)
            }
            Event::SequenceStart(anchor, tag) => {
                self.push(Frame::Seq {
                    head: head(anchor, tag, line, col),
                    items: Vec::new(),
                })?;
                Ok(())
            }
            Event::MappingStart(anchor, tag) => {
                self.push(Frame::Map {
                    head: head(anchor, tag, line, col),
                    pairs: Vec::new(),
                    key: None,
                })?;
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (head, kind) = match self.stack.pop() {
                    Some(Frame::Seq { head, items }) => (head, Kind::Seq(items)),
                    Some(Frame::Map { head, pairs, .. }) => (head, Kind::Map(pairs)),
                    None => return Ok(()),
                };
                let node = Node {
                    kind,
                    tag: head.tag,
                    line: head.line,
                    col: head.col,
                };
                self.attach(node, head.anchor)
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => Ok(()),
        }
    }

    fn push(&mut self, frame: Frame) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            let head = match &frame {
                Frame::Seq { head, .. } | Frame::Map { head, .. } => head,
            };
            return Err(YamlError {
                message: format!("collections are nested more than {MAX_DEPTH} levels deep"),
                location: Some((head.line, head.col)),
            });
        }
        self.stack.push(frame);
        Ok(())
    }

    fn attach(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        self.nodes += 1;
        let node = Rc::new(node);
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { pairs, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => pairs.push((k, node)),
            },
        }
        Ok(())
    }
}

fn head(anchor: usize, tag: Option<std::borrow::Cow<'_, Tag>>, line: usize, col: usize) -> Head {
    Head {
        anchor,
        tag: tag.map(|t| short_tag(&t)),
        line,
        col,
    }
}

/// `!!int` for the YAML core tags, `!name` for local ones, `!` for the non-specific tag.
fn short_tag(tag: &Tag) -> String {
    const CORE: &str = "tag:yaml.org,2002:";
    let full = format!("{}{}", tag.handle, tag.suffix);
    if let Some(rest) = full.strip_prefix(CORE) {
        format!("!!{rest}")
    } else if tag.handle.is_empty() && tag.suffix == "!" {
        "!".to_string()
    } else {
        full
    }
}

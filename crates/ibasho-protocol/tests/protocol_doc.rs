//! Every example in docs/protocol.md parses, every frame type has one, and every error and
//! close code is documented.

use ibasho_protocol::error::Problem;
use ibasho_protocol::{ClientFrame, ErrorCode, ServerFrame, close};
use std::collections::BTreeSet;

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md");
    std::fs::read_to_string(path).expect("docs/protocol.md")
}

/// The fenced blocks tagged `lang`, in order.
fn blocks(doc: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match &mut current {
            None if line.trim() == format!("```{lang}") => current = Some(String::new()),
            Some(_) if line.trim() == "```" => out.push(current.take().unwrap_or_default()),
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    out
}

fn type_of(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).expect("example is JSON");
    v["type"].as_str().expect("example has a type").to_owned()
}

#[test]
fn client_examples_parse_and_cover_every_type() {
    let doc = doc();
    let examples = blocks(&doc, "json client");
    assert!(!examples.is_empty());
    let mut seen = BTreeSet::new();
    for json in &examples {
        let frame: ClientFrame = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("client example does not parse: {e}\n{json}"));
        // Round trip: what we serialize parses back to the same frame.
        let again: ClientFrame =
            serde_json::from_str(&serde_json::to_string(&frame).unwrap()).unwrap();
        assert_eq!(frame, again);
        seen.insert(type_of(json));
    }
    for t in ClientFrame::TYPES {
        assert!(
            seen.contains(*t),
            "docs/protocol.md has no client example of {t}"
        );
    }
}

#[test]
fn server_examples_parse_and_cover_every_type() {
    let doc = doc();
    let examples = blocks(&doc, "json server");
    let mut seen = BTreeSet::new();
    for json in &examples {
        let frame: ServerFrame = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("server example does not parse: {e}\n{json}"));
        let again: ServerFrame =
            serde_json::from_str(&serde_json::to_string(&frame).unwrap()).unwrap();
        assert_eq!(frame, again);
        seen.insert(type_of(json));
    }
    for t in ServerFrame::TYPES {
        assert!(
            seen.contains(*t),
            "docs/protocol.md has no server example of {t}"
        );
    }
}

#[test]
fn problem_example_parses() {
    let doc = doc();
    let problems = blocks(&doc, "json");
    assert_eq!(problems.len(), 1);
    let p: Problem = serde_json::from_str(&problems[0]).unwrap();
    assert_eq!(
        p,
        Problem::new(ErrorCode::HandleTaken, p.detail.clone().unwrap())
    );
}

#[test]
fn every_error_and_close_code_is_documented() {
    let doc = doc();
    for code in ErrorCode::ALL {
        assert!(
            doc.contains(&format!("| `{}` |", code.as_str())),
            "error code {code} is not in the table"
        );
    }
    for (code, name) in close::ALL {
        assert!(
            doc.contains(&format!("| {code} | `{name}` |")),
            "close code {code} is not in the table"
        );
    }
}

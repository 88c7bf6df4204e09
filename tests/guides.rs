//! The guides in docs/ show the code of their example programs in full;
//! these tests keep each copy identical to the program that compiles.

#[test]
fn from_go_guide_shows_examples_from_go_rs() {
    let guide = include_str!("../docs/from-go.md");
    assert!(
        guide.contains(include_str!("../examples/from_go.rs")),
        "docs/from-go.md must contain examples/from_go.rs verbatim"
    );
}

#[test]
fn from_tokio_guide_shows_examples_from_tokio_rs() {
    let guide = include_str!("../docs/from-tokio.md");
    assert!(
        guide.contains(include_str!("../examples/from_tokio.rs")),
        "docs/from-tokio.md must contain examples/from_tokio.rs verbatim"
    );
}

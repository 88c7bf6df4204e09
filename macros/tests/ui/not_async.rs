#[gosched::test]
fn not_async() {}

fn main() {}

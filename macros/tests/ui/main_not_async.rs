#[gosched::main]
fn main() {}

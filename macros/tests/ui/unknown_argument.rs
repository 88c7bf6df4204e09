#[gosched::test(flavor = "multi_thread")]
async fn unknown() {}

fn main() {}

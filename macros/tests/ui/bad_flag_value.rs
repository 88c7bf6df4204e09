#[gosched::test(leak_check = 1)]
async fn flag() {}

fn main() {}

#[gosched::test(procs = 0)]
async fn zero() {}

#[gosched::test(procs = "two")]
async fn not_a_number() {}

#[gosched::test(procs)]
async fn missing() {}

fn main() {}

//! The attributes' errors point at the user's code with a clear message;
//! each case under `ui/` has its expected compiler output beside it
//! (`TRYBUILD=overwrite cargo test -p gosched-macros` rewrites them).

#[test]
fn misuse_is_reported_at_the_offending_token() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

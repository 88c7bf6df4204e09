//! gosched-macros: `#[gosched::main]` and `#[gosched::test]`, re-exported
//! by the `gosched` crate. Use them through it: the expansion names the
//! runtime as `::gosched::__private`, so a crate depends on `gosched` alone.
//!
//! # What the attributes do
//!
//! Both turn an `async fn` with no arguments into a plain `fn` that starts
//! a runtime and runs the body on it with `block_on`:
//!
//! - `#[gosched::main]`: `procs = N` sets the number of Ps (default: the
//!   runtime's default, `GOSCHED_PROCS` or the number of CPUs). The
//!   runtime is the process's default while main runs, as `gosched::run`
//!   makes it.
//! - `#[gosched::test]`: adds `#[test]`; takes `procs = N`, `leak_check`
//!   (fail the test if a task it spawned is still alive at the end, after
//!   `LeakGuard`'s grace period: Go's goleak) and `start_paused` (pause
//!   the runtime's clock before the body runs, so timers fire as soon as
//!   every task is idle: `gosched::time::pause`). The flags also take
//!   `= true` or `= false`.
//!
//! # Parsing without syn
//!
//! The attributes need only the shape of a function: outer attributes,
//! visibility, `async`, `fn`, a name, an empty argument list, a return
//! type, a body. A small parser over `proc_macro`'s token trees finds
//! them (`parse_fn`, `parse_args`), which keeps syn and quote (about
//! ten seconds of a clean build) out of every crate that depends on
//! gosched. The body is passed through untouched, with its spans, so
//! errors inside it point where they always did.
//!
//! Errors point at the user's tokens: `compile_error!` is emitted with the
//! span of the offending token (a missing `async` points at `fn`, an
//! unknown argument at its name, a bad value at the value).

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// Runs an `async fn main` on a gosched runtime.
///
/// ```
/// #[gosched::main(procs = 2)]
/// async fn main() {
///     let h = gosched::spawn(async { 40 + 2 });
///     assert_eq!(h.await.unwrap(), 42);
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Main, args, item)
}

/// Runs an `async fn` test on a gosched runtime of its own.
///
/// ```
/// #[gosched::test(procs = 2, leak_check, start_paused)]
/// async fn an_hour_passes_at_once() {
///     let start = gosched::time::now();
///     gosched::time::sleep(std::time::Duration::from_secs(3600)).await;
///     assert!(gosched::time::now() - start >= std::time::Duration::from_secs(3600));
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Test, args, item)
}

/// Which attribute is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "#[gosched::main]",
            Kind::Test => "#[gosched::test]",
        }
    }
}

/// A compile error at a span of the user's code.
struct Error {
    span: Span,
    msg: String,
}

fn err<T>(span: Span, msg: impl Into<String>) -> Result<T, Error> {
    Err(Error {
        span,
        msg: msg.into(),
    })
}

impl Error {
    /// `::core::compile_error! { "msg" }`, every token at the error's span.
    fn into_tokens(self) -> TokenStream {
        let s = self.span;
        let mut lit = Literal::string(&self.msg);
        lit.set_span(s);
        let mut body = Group::new(Delimiter::Brace, TokenTree::Literal(lit).into());
        body.set_span(s);
        [
            punct(':', Spacing::Joint, s),
            punct(':', Spacing::Alone, s),
            TokenTree::Ident(Ident::new("core", s)),
            punct(':', Spacing::Joint, s),
            punct(':', Spacing::Alone, s),
            TokenTree::Ident(Ident::new("compile_error", s)),
            punct('!', Spacing::Alone, s),
            TokenTree::Group(body),
        ]
        .into_iter()
        .collect()
    }
}

fn punct(c: char, spacing: Spacing, span: Span) -> TokenTree {
    let mut p = Punct::new(c, spacing);
    p.set_span(span);
    TokenTree::Punct(p)
}

/// The attribute's arguments.
struct Args {
    procs: Option<usize>,
    leak_check: bool,
    start_paused: bool,
}

/// The parts of the function the expansion needs.
struct FnItem {
    /// Outer attributes, kept as written (doc comments, `#[should_panic]`).
    attrs: Vec<TokenTree>,
    /// `pub`, `pub(crate)`, or nothing.
    vis: Vec<TokenTree>,
    name: Ident,
    /// The tokens after `->`, if any.
    ret: Option<Vec<TokenTree>>,
    body: Group,
}

fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let item: Vec<TokenTree> = item.into_iter().collect();
    match parse_args(kind, args).and_then(|a| parse_fn(kind, &item).map(|f| (a, f))) {
        Ok((args, f)) => emit(kind, &args, f),
        Err(e) => {
            let mut out = e.into_tokens();
            // For main, a stand-in keeps "`main` function not found" from
            // burying the real error.
            if kind == Kind::Main {
                if let Some(name) = fn_name(&item) {
                    out.extend(stub_fn(name));
                }
            }
            out
        }
    }
}

/// Parses `procs = N, leak_check, start_paused = true`.
fn parse_args(kind: Kind, args: TokenStream) -> Result<Args, Error> {
    let mut out = Args {
        procs: None,
        leak_check: false,
        start_paused: false,
    };
    let mut it = args.into_iter().peekable();
    while let Some(tt) = it.next() {
        let TokenTree::Ident(name) = &tt else {
            return err(
                tt.span(),
                format!("{}: expected an argument name, found `{tt}`", kind.name()),
            );
        };
        let key = name.to_string();
        // `= value`, if present.
        let value = match it.peek() {
            Some(TokenTree::Punct(p)) if p.as_char() == '=' => {
                let eq = p.span();
                it.next();
                match it.next() {
                    Some(v) => Some(v),
                    None => return err(eq, format!("expected a value after `{key} =`")),
                }
            }
            _ => None,
        };
        match (key.as_str(), kind) {
            ("procs", _) => out.procs = Some(procs_value(name, value)?),
            ("leak_check", Kind::Test) => out.leak_check = flag_value(&key, value)?,
            ("start_paused", Kind::Test) => out.start_paused = flag_value(&key, value)?,
            ("leak_check" | "start_paused", Kind::Main) => {
                return err(
                    name.span(),
                    format!("`{key}` is an argument of #[gosched::test], not of #[gosched::main]"),
                )
            }
            _ => {
                let expected = match kind {
                    Kind::Main => "`procs = N`",
                    Kind::Test => "`procs = N`, `leak_check`, `start_paused`",
                };
                return err(
                    name.span(),
                    format!(
                        "unknown argument `{key}` to {}; expected {expected}",
                        kind.name()
                    ),
                );
            }
        }
        match it.next() {
            None => break,
            Some(TokenTree::Punct(p)) if p.as_char() == ',' => {}
            Some(other) => {
                return err(other.span(), format!("expected `,` before `{other}`"));
            }
        }
    }
    Ok(out)
}

/// The `N` of `procs = N`: a positive integer literal.
fn procs_value(name: &Ident, value: Option<TokenTree>) -> Result<usize, Error> {
    let Some(value) = value else {
        return err(name.span(), "`procs` needs a value: `procs = N`");
    };
    let text = value.to_string();
    let digits = text.trim_end_matches("usize").replace('_', "");
    match (&value, digits.parse::<usize>()) {
        (TokenTree::Literal(_), Ok(0)) => err(value.span(), "`procs` must be at least 1"),
        (TokenTree::Literal(_), Ok(n)) => Ok(n),
        _ => err(
            value.span(),
            format!("`procs` must be a positive integer literal, found `{text}`"),
        ),
    }
}

/// A flag: bare (true), or `= true` / `= false`.
fn flag_value(key: &str, value: Option<TokenTree>) -> Result<bool, Error> {
    match value {
        None => Ok(true),
        Some(TokenTree::Ident(b)) if b.to_string() == "true" => Ok(true),
        Some(TokenTree::Ident(b)) if b.to_string() == "false" => Ok(false),
        Some(v) => err(
            v.span(),
            format!("`{key}` takes no value, or `= true` / `= false`; found `{v}`"),
        ),
    }
}

fn is_ident(tt: Option<&TokenTree>, word: &str) -> bool {
    matches!(tt, Some(TokenTree::Ident(i)) if i.to_string() == word)
}

fn is_punct(tt: Option<&TokenTree>, c: char) -> bool {
    matches!(tt, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

/// The name after `fn`, if the item has one (for the error stand-in).
fn fn_name(item: &[TokenTree]) -> Option<Ident> {
    let i = item.iter().position(|t| is_ident(Some(t), "fn"))?;
    match item.get(i + 1) {
        Some(TokenTree::Ident(name)) => Some(name.clone()),
        _ => None,
    }
}

/// `fn name() {}`.
fn stub_fn(name: Ident) -> TokenStream {
    [
        TokenTree::Ident(Ident::new("fn", Span::call_site())),
        TokenTree::Ident(name),
        TokenTree::Group(Group::new(Delimiter::Parenthesis, TokenStream::new())),
        TokenTree::Group(Group::new(Delimiter::Brace, TokenStream::new())),
    ]
    .into_iter()
    .collect()
}

/// Parses `#[attr]* vis? async fn name() (-> Ret)? { body }`.
fn parse_fn(kind: Kind, item: &[TokenTree]) -> Result<FnItem, Error> {
    let mut i = 0;
    let at = |i: usize| item.get(i);
    let end_span = item.last().map_or_else(Span::call_site, TokenTree::span);
    // Outer attributes.
    let mut attrs = Vec::new();
    while is_punct(at(i), '#') {
        let Some(TokenTree::Group(g)) = at(i + 1) else {
            return err(item[i].span(), "expected an attribute after `#`");
        };
        if kind == Kind::Test && is_test_attr(g) {
            return err(
                g.span(),
                "#[gosched::test] already makes the function a test; remove this #[test]",
            );
        }
        attrs.extend_from_slice(&item[i..i + 2]);
        i += 2;
    }
    // Visibility.
    let mut vis = Vec::new();
    if is_ident(at(i), "pub") {
        vis.push(item[i].clone());
        i += 1;
        if let Some(TokenTree::Group(g)) = at(i) {
            if g.delimiter() == Delimiter::Parenthesis {
                vis.push(item[i].clone());
                i += 1;
            }
        }
    }
    // Qualifiers: exactly `async`.
    let mut is_async = false;
    while let Some(TokenTree::Ident(q)) = at(i) {
        match q.to_string().as_str() {
            "async" => is_async = true,
            "fn" => break,
            other @ ("const" | "unsafe" | "extern") => {
                return err(
                    q.span(),
                    format!("{} does not take a `{other}` function", kind.name()),
                )
            }
            _ => break,
        }
        i += 1;
    }
    let Some(TokenTree::Ident(fn_kw)) = at(i).filter(|t| is_ident(Some(t), "fn")) else {
        return err(
            at(i).map_or(end_span, TokenTree::span),
            format!("{} goes on an `async fn`", kind.name()),
        );
    };
    if !is_async {
        return err(
            fn_kw.span(),
            format!(
                "{} needs an `async fn`: add `async` before `fn`",
                kind.name()
            ),
        );
    }
    i += 1;
    let Some(TokenTree::Ident(name)) = at(i) else {
        return err(fn_kw.span(), "expected the function's name after `fn`");
    };
    i += 1;
    if is_punct(at(i), '<') {
        return err(
            item[i].span(),
            format!("{} cannot run a generic function", kind.name()),
        );
    }
    match at(i) {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
            if !g.stream().is_empty() {
                return err(
                    g.span(),
                    format!("{} functions take no arguments", kind.name()),
                );
            }
        }
        _ => return err(name.span(), "expected `()` after the function's name"),
    }
    i += 1;
    let mut ret = None;
    if is_punct(at(i), '-') && is_punct(at(i + 1), '>') {
        i += 2;
        let start = i;
        while i + 1 < item.len() {
            if is_ident(at(i), "where") {
                return err(
                    item[i].span(),
                    format!("{} does not take a `where` clause", kind.name()),
                );
            }
            i += 1;
        }
        if start == i {
            return err(item[start - 1].span(), "expected a return type after `->`");
        }
        ret = Some(item[start..i].to_vec());
    }
    let body = match at(i) {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace && i + 1 == item.len() => {
            g.clone()
        }
        Some(t) => return err(t.span(), "expected the function's body"),
        None => return err(end_span, "expected the function's body"),
    };
    Ok(FnItem {
        attrs,
        vis,
        name: name.clone(),
        ret,
        body,
    })
}

/// Whether `[...]` is `[test]`.
fn is_test_attr(g: &Group) -> bool {
    let mut it = g.stream().into_iter();
    g.delimiter() == Delimiter::Bracket
        && is_ident(it.next().as_ref(), "test")
        && it.next().is_none()
}

/// `::gosched::__private::NAME`.
fn private_path(name: &str) -> TokenStream {
    let s = Span::call_site();
    let mut out = TokenStream::new();
    for seg in ["gosched", "__private", name] {
        out.extend([punct(':', Spacing::Joint, s), punct(':', Spacing::Alone, s)]);
        out.extend([TokenTree::Ident(Ident::new(seg, s))]);
    }
    out
}

/// `Some(N)` or `None`.
fn option_usize(v: Option<usize>) -> TokenStream {
    let s = Span::call_site();
    match v {
        Some(n) => [
            TokenTree::Ident(Ident::new("Some", s)),
            TokenTree::Group(Group::new(
                Delimiter::Parenthesis,
                TokenTree::Literal(Literal::usize_suffixed(n)).into(),
            )),
        ]
        .into_iter()
        .collect(),
        None => TokenTree::Ident(Ident::new("None", s)).into(),
    }
}

fn bool_ident(b: bool) -> TokenTree {
    TokenTree::Ident(Ident::new(
        if b { "true" } else { "false" },
        Span::call_site(),
    ))
}

/// The plain function that runs the body:
///
/// ```text
/// #[test]            // for #[gosched::test]
/// #[attrs]
/// vis fn name() -> Ret {
///     ::gosched::__private::run_test(options, async move { body })
/// }
/// ```
fn emit(kind: Kind, args: &Args, f: FnItem) -> TokenStream {
    let s = Span::call_site();
    let mut out = TokenStream::new();
    if kind == Kind::Test {
        out.extend([
            punct('#', Spacing::Alone, s),
            TokenTree::Group(Group::new(
                Delimiter::Bracket,
                TokenTree::Ident(Ident::new("test", s)).into(),
            )),
        ]);
    }
    out.extend(f.attrs);
    out.extend(f.vis);
    out.extend([
        TokenTree::Ident(Ident::new("fn", s)),
        TokenTree::Ident(f.name),
        TokenTree::Group(Group::new(Delimiter::Parenthesis, TokenStream::new())),
    ]);
    if let Some(ret) = f.ret {
        out.extend([punct('-', Spacing::Joint, s), punct('>', Spacing::Alone, s)]);
        out.extend(ret);
    }
    // The call's arguments: the options, then `async move { body }`.
    let mut call_args = TokenStream::new();
    match kind {
        Kind::Main => call_args.extend(option_usize(args.procs)),
        Kind::Test => {
            let mut fields = TokenStream::new();
            fields.extend([
                TokenTree::Ident(Ident::new("procs", s)),
                punct(':', Spacing::Alone, s),
            ]);
            fields.extend(option_usize(args.procs));
            for (name, v) in [
                ("leak_check", args.leak_check),
                ("start_paused", args.start_paused),
            ] {
                fields.extend([
                    punct(',', Spacing::Alone, s),
                    TokenTree::Ident(Ident::new(name, s)),
                    punct(':', Spacing::Alone, s),
                    bool_ident(v),
                ]);
            }
            call_args.extend(private_path("TestOptions"));
            call_args.extend([TokenTree::Group(Group::new(Delimiter::Brace, fields))]);
        }
    }
    call_args.extend([
        punct(',', Spacing::Alone, s),
        TokenTree::Ident(Ident::new("async", s)),
        TokenTree::Ident(Ident::new("move", s)),
        TokenTree::Group(f.body),
    ]);
    let mut body = private_path(match kind {
        Kind::Main => "run_main",
        Kind::Test => "run_test",
    });
    body.extend([TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        call_args,
    ))]);
    out.extend([TokenTree::Group(Group::new(Delimiter::Brace, body))]);
    out
}

//! Socket addresses, and resolving host names off the workers.
//!
//! `std::net::ToSocketAddrs` resolves names with a blocking `getaddrinfo`
//! call; made on a worker, it would stall every task queued behind it (Go
//! resolves on its own threads for the same reason). So gosched has its
//! own sealed [`ToSocketAddrs`], implemented for the same types as std's.
//! Each value either *is* an address (a `SocketAddr`, an IP and port, a
//! string that parses as one) and converts at once, or names a host, and
//! then [`lookup_host`] runs std's resolver on a blocking thread and waits
//! for it.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

mod sealed {
    use std::net::SocketAddr;

    /// What an address value needs before it can be used.
    pub enum Resolve {
        /// One address, with no lookup (and no allocation).
        One(SocketAddr),
        /// Several addresses, with no lookup.
        Ready(Vec<SocketAddr>),
        /// A `host:port` string for the resolver.
        Lookup(String),
    }

    /// The conversion behind [`super::ToSocketAddrs`].
    pub trait Sealed {
        /// Converts, or says what to look up.
        fn to_resolve(&self) -> Resolve;
    }
}

use sealed::Resolve;

/// Values that name one or more socket addresses: the types
/// `std::net::ToSocketAddrs` is implemented for. Sealed.
///
/// ```
/// use gosched::net::lookup_host;
/// let addrs = gosched::run(lookup_host(("127.0.0.1", 80))).unwrap();
/// assert_eq!(addrs[0].port(), 80);
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

impl<T: sealed::Sealed + ?Sized> ToSocketAddrs for T {}

macro_rules! ready_addr {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {
            fn to_resolve(&self) -> Resolve {
                Resolve::One(SocketAddr::from(*self))
            }
        }
    )*};
}
ready_addr!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl sealed::Sealed for str {
    fn to_resolve(&self) -> Resolve {
        match self.parse::<SocketAddr>() {
            Ok(a) => Resolve::One(a),
            Err(_) => Resolve::Lookup(self.to_owned()),
        }
    }
}

impl sealed::Sealed for String {
    fn to_resolve(&self) -> Resolve {
        self.as_str().to_resolve()
    }
}

impl sealed::Sealed for (&str, u16) {
    fn to_resolve(&self) -> Resolve {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Resolve::One(SocketAddr::new(ip, self.1)),
            Err(_) => Resolve::Lookup(format!("{}:{}", self.0, self.1)),
        }
    }
}

impl sealed::Sealed for (String, u16) {
    fn to_resolve(&self) -> Resolve {
        (self.0.as_str(), self.1).to_resolve()
    }
}

impl sealed::Sealed for [SocketAddr] {
    fn to_resolve(&self) -> Resolve {
        Resolve::Ready(self.to_vec())
    }
}

impl<T: sealed::Sealed + ?Sized> sealed::Sealed for &T {
    fn to_resolve(&self) -> Resolve {
        (**self).to_resolve()
    }
}

/// Resolves `addr` to socket addresses; host names are looked up on a
/// blocking thread.
///
/// ```
/// let addrs = gosched::run(gosched::net::lookup_host("localhost:7000")).unwrap();
/// assert!(addrs.iter().all(|a| a.ip().is_loopback()));
/// ```
pub async fn lookup_host<A: ToSocketAddrs>(addr: A) -> io::Result<Vec<SocketAddr>> {
    lookup_resolved(addr.to_resolve()).await
}

async fn lookup_resolved(resolve: Resolve) -> io::Result<Vec<SocketAddr>> {
    match resolve {
        Resolve::One(a) => Ok(vec![a]),
        Resolve::Ready(v) => Ok(v),
        Resolve::Lookup(host) => {
            run_blocking(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&host).map(Iterator::collect)
            })
            .await
        }
    }
}

/// Runs `f` on the runtime's blocking pool (a plain thread outside a
/// runtime) and waits for its result without blocking the task's thread.
async fn run_blocking<R: Send + 'static>(
    f: impl FnOnce() -> io::Result<R> + Send + 'static,
) -> io::Result<R> {
    if let Some(handle) = gosched_executor::Handle::try_current() {
        return handle
            .spawn_blocking(f)
            .await
            .unwrap_or_else(|e| Err(io::Error::other(format!("resolver task failed: {e}"))));
    }
    let (tx, rx) = futures::channel::oneshot::channel();
    std::thread::Builder::new()
        .name("gosched-resolve".into())
        .spawn(move || {
            let _ = tx.send(f());
        })?;
    rx.await
        .unwrap_or_else(|_| Err(io::Error::other("resolver thread panicked")))
}

/// The first address of `addr` (what `send_to` uses); no allocation when
/// `addr` is a single address.
pub(crate) async fn first_addr<A: ToSocketAddrs>(addr: A) -> io::Result<SocketAddr> {
    let addrs = match addr.to_resolve() {
        Resolve::One(a) => return Ok(a),
        Resolve::Ready(v) => v,
        lookup @ Resolve::Lookup(_) => lookup_resolved(lookup).await?,
    };
    addrs
        .first()
        .copied()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses to send data to"))
}

/// Tries `op` on each address of `addr` in turn; returns the first success
/// or the last error.
pub(crate) async fn each_addr<A, T, F, Fut>(addr: A, mut op: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let addrs = match addr.to_resolve() {
        Resolve::One(a) => return op(a).await,
        other => lookup_resolved(other).await?,
    };
    let mut last = None;
    for a in addrs {
        match op(a).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}

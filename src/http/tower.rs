//! tower services on hyper: [`TowerToHyper`] adapts any
//! `tower::Service` (an axum `Router`, a `ServiceBuilder` stack) to
//! hyper's `Service`, and [`serve_tower`] serves one.
//!
//! hyper calls a service through `&self` and never asks whether it is
//! ready; tower calls through `&mut self` after `poll_ready`. So each
//! request gets its own clone of the service, waits for `poll_ready` on
//! it, then calls it: the usual tower contract, one clone per request
//! (axum's `Router` clones are reference-count bumps). The request's
//! future is a small state machine, not a box.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use hyper::body::Incoming;
use hyper::{Request, Response};
use tower_service::Service;

use super::serve::{serve, Listener, Serve, ServeBody};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A `tower::Service` as a hyper `Service`.
#[derive(Clone, Debug)]
pub struct TowerToHyper<S> {
    service: S,
}

impl<S> TowerToHyper<S> {
    /// Wraps `service`.
    pub fn new(service: S) -> Self {
        TowerToHyper { service }
    }
}

impl<S, R> hyper::service::Service<R> for TowerToHyper<S>
where
    S: Service<R> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TowerCall<S, R>;

    fn call(&self, req: R) -> Self::Future {
        TowerCall {
            state: State::Ready {
                service: self.service.clone(),
                req: Some(req),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of one request through [`TowerToHyper`].
    pub struct TowerCall<S: Service<R>, R> {
        #[pin]
        state: State<S, R>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<S: Service<R>, R> {
        Ready { service: S, req: Option<R> },
        Calling { #[pin] fut: S::Future },
    }
}

impl<S: Service<R>, R> Future for TowerCall<S, R> {
    type Output = Result<S::Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Ready { service, req } => {
                    ready!(service.poll_ready(cx))?;
                    let req = req.take().expect("TowerCall polled after completion");
                    let fut = service.call(req);
                    state.set(State::Calling { fut });
                }
                StateProj::Calling { fut } => return fut.poll(cx),
            }
        }
    }
}

/// [`serve`] for a `tower::Service`, such as an axum `Router`: the same
/// accept loop and options.
///
/// ```no_run
/// # // axum is not a dependency of gosched; any tower::Service works:
/// use std::convert::Infallible;
/// use gosched::http::body_util::Full;
/// use gosched::http::hyper::{Request, Response};
/// use gosched::http::Bytes;
///
/// #[derive(Clone)]
/// struct Hello;
/// impl<B> tower_service::Service<Request<B>> for Hello {
///     type Response = Response<Full<Bytes>>;
///     type Error = Infallible;
///     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
///     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
///         std::task::Poll::Ready(Ok(()))
///     }
///     fn call(&mut self, _req: Request<B>) -> Self::Future {
///         std::future::ready(Ok(Response::new(Full::new(Bytes::from_static(b"hi")))))
///     }
/// }
///
/// gosched::run(async {
///     let listener = gosched::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
///     gosched::http::serve_tower(listener, Hello).await;
/// });
/// ```
pub fn serve_tower<L, S, B>(listener: L, service: S) -> Serve<L, TowerToHyper<S>>
where
    L: Listener,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: ServeBody,
{
    serve(listener, TowerToHyper::new(service))
}

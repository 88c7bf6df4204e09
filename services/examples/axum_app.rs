//! An axum application on gosched: a router with a path parameter, JSON in
//! and out, shared state behind a gosched `Mutex`, and graceful shutdown
//! on a `Context` cancelled by SIGINT/SIGTERM.
//!
//! ```sh
//! cargo run --release -p gosched-services --example axum_app -- 127.0.0.1:3000
//! curl -s localhost:3000/users -H 'content-type: application/json' -d '{"name":"gopher"}'
//! curl -s localhost:3000/users/1
//! curl -si localhost:3000/users/99     # 404 with a JSON error
//! ```
//!
//! It prints `listening on ADDR` once it accepts (the address may be
//! `127.0.0.1:0` to pick a free port) and `stopped` after a graceful
//! shutdown.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use gosched::signal::Signal;
use gosched::sync::context::Context;
use gosched::sync::Mutex;

#[derive(Clone, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
}

#[derive(Default)]
struct Users {
    next_id: u64,
    by_id: BTreeMap<u64, User>,
}

type Shared = Arc<Mutex<Users>>;

async fn list_users(State(users): State<Shared>) -> Json<Vec<User>> {
    Json(users.lock().await.by_id.values().cloned().collect())
}

async fn create_user(
    State(users): State<Shared>,
    Json(new): Json<NewUser>,
) -> (StatusCode, Json<User>) {
    let mut users = users.lock().await;
    users.next_id += 1;
    let user = User {
        id: users.next_id,
        name: new.name,
    };
    users.by_id.insert(user.id, user.clone());
    (StatusCode::CREATED, Json(user))
}

async fn get_user(
    State(users): State<Shared>,
    Path(id): Path<u64>,
) -> Result<Json<User>, (StatusCode, Json<serde_json::Value>)> {
    match users.lock().await.by_id.get(&id) {
        Some(user) => Ok(Json(user.clone())),
        None => Err((
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": format!("no user {id}") })),
        )),
    }
}

fn app() -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user))
        .with_state(Shared::default())
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_string());
    gosched::run(async move {
        let listener = match gosched::net::TcpListener::bind(addr.as_str()).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("axum_app: cannot listen on {addr}: {e}");
                std::process::exit(1);
            }
        };
        let (ctx, _cancel) = gosched::signal::notify_context(
            &Context::background(),
            &[Signal::Interrupt, Signal::Terminate],
        )
        .expect("axum_app: cannot watch for signals");
        println!("listening on {}", listener.local_addr().unwrap());
        let stopped = gosched::http::serve_tower(listener, app())
            .graceful(&ctx)
            .shutdown_timeout(Duration::from_secs(5))
            .await;
        println!(
            "stopped ({} connections finished, {} dropped)",
            stopped.finished, stopped.dropped
        );
    });
}

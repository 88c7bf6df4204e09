//! Loom model of `Cond`: a signal sent after the waiter's unlock is seen.

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

use crate::{Cond, Mutex};

#[test]
fn loom_cond_signal_after_state_change_wakes_the_waiter() {
    loom::model(|| {
        let s = Arc::new((Mutex::new(false), Cond::new()));
        let s2 = s.clone();
        let t = thread::spawn(move || {
            block_on(async {
                *s2.0.lock().await = true;
                s2.1.signal();
            })
        });
        block_on(async {
            let mut ready = s.0.lock().await;
            while !*ready {
                ready = s.1.wait(ready).await;
            }
        });
        t.join().unwrap();
    });
}

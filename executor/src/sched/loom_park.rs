//! Loom model of parking an M: a wake-up handed to a sleeping M is never
//! lost, whether the M sleeps in the driver or on its thread parker.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use super::idle::{MPark, Wakeup};
use crate::loom::{lock, AtomicBool, Mutex};
use crate::Driver;

/// A driver that sleeps on a loom condvar until unparked.
struct MockDriver {
    unparked: Mutex<bool>,
    cv: loom::sync::Condvar,
}

impl Driver for MockDriver {
    fn park(&self, _timeout: Option<Duration>) {
        let mut g = lock(&self.unparked);
        while !*g {
            g = self.cv.wait(g).unwrap();
        }
        *g = false;
    }
    fn unpark(&self) {
        *lock(&self.unparked) = true;
        self.cv.notify_one();
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn sleep_until_handed(m: &MPark, driver: Option<&dyn Driver>, busy: &AtomicBool) -> Wakeup {
    loop {
        if let (Some(w), _) = m.park_once(driver, busy, None) {
            return w;
        }
    }
}

#[test]
fn wake_reaches_an_m_sleeping_in_the_driver() {
    loom::model(|| {
        let driver = Arc::new(MockDriver {
            unparked: Mutex::new(false),
            cv: loom::sync::Condvar::new(),
        });
        let m = MPark::new();
        let busy = Arc::new(AtomicBool::new(false));
        let sleeper = {
            let (m, d, busy) = (m.clone(), driver.clone(), busy.clone());
            loom::thread::spawn(move || {
                m.register_current_thread();
                sleep_until_handed(&m, Some(&*d as &dyn Driver), &busy)
            })
        };
        m.wake(Wakeup::Shutdown, Some(&*driver as &dyn Driver));
        assert!(matches!(sleeper.join().unwrap(), Wakeup::Shutdown));
    });
}

#[test]
fn wake_reaches_an_m_sleeping_on_its_thread_parker() {
    loom::model(|| {
        let m = MPark::new();
        let busy = AtomicBool::new(false);
        m.register_current_thread();
        let waker = {
            let m = m.clone();
            loom::thread::spawn(move || m.wake(Wakeup::Shutdown, None))
        };
        assert!(matches!(
            sleep_until_handed(&m, None, &busy),
            Wakeup::Shutdown
        ));
        waker.join().unwrap();
    });
}

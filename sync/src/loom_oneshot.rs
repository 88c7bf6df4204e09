//! Loom models of `oneshot`: the value arrives, or the drop of the sender
//! (or the receiver's own close) is seen; never both, never neither.

use loom::future::block_on;
use loom::thread;

use crate::oneshot;

#[test]
fn loom_oneshot_send_or_drop_races_the_receiver() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<u32>();
        let t = thread::spawn(move || tx.send(3).is_ok());
        let got = block_on(rx);
        let sent = t.join().unwrap();
        assert!(sent);
        assert_eq!(got, Ok(3));
    });
}

#[test]
fn loom_oneshot_receiver_drop_races_send_and_returns_the_value() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<u32>();
        let t = thread::spawn(move || tx.send(4));
        drop(rx);
        // Either the send saw the receiver gone (value back), or the value
        // was stored and dropped with the receiver: no panic, no leak.
        let r = t.join().unwrap();
        assert!(r == Ok(()) || r == Err(4));
    });
}

#[test]
fn loom_oneshot_close_racing_send_completes_the_receiver_either_way() {
    loom::model(|| {
        let (tx, mut rx) = oneshot::channel::<u32>();
        let t = thread::spawn(move || tx.send(5));
        rx.close();
        // Never parks for good: the value if the send came first, else the
        // error at once (and then the send got its value back).
        let got = block_on(&mut rx);
        let sent = t.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(got, Ok(5)),
            Err(v) => {
                assert_eq!(v, 5);
                assert_eq!(got, Err(oneshot::RecvError));
            }
        }
    });
}

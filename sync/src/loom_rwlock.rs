//! Loom model of the RwLock: a writer and a reader never overlap.

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

use crate::RwLock;

#[test]
fn loom_rwlock_writer_and_reader_exclude_each_other() {
    loom::model(|| {
        let l = Arc::new(RwLock::new((0u32, 0u32)));
        let l2 = l.clone();
        let t = thread::spawn(move || {
            let mut g = block_on(l2.write());
            g.0 += 1;
            g.1 += 1;
        });
        {
            let g = block_on(l.read());
            assert_eq!(g.0, g.1);
        }
        t.join().unwrap();
        assert_eq!(*block_on(l.read()), (1, 1));
    });
}

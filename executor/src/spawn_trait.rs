//! `Handle` as a `futures` spawner, so any `futures` code that takes a
//! `Spawn` (or `SpawnExt`) runs its tasks on gosched unchanged.

use futures::future::FutureObj;
use futures::task::{Spawn, SpawnError};

use crate::Handle;

impl Spawn for Handle {
    fn spawn_obj(&self, future: FutureObj<'static, ()>) -> Result<(), SpawnError> {
        if self.shared.is_shutting_down() {
            return Err(SpawnError::shutdown());
        }
        // Detached, as `futures` expects: the JoinHandle is dropped.
        drop(Handle::spawn(self, future));
        Ok(())
    }

    fn status(&self) -> Result<(), SpawnError> {
        if self.shared.is_shutting_down() {
            Err(SpawnError::shutdown())
        } else {
            Ok(())
        }
    }
}

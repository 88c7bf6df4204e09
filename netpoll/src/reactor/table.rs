//! The registration table: a slab of [`IoState`]s addressed by
//! generation-tagged tokens.
//!
//! # The problem
//!
//! The poller hands us events tagged with the `mio::Token` we registered.
//! Between the kernel queuing an event and the poller dispatching it, the
//! socket may have been closed and its slot reused by a new socket. An
//! event meant for the old socket must not mark the new one ready (a
//! spurious readiness is harmless, but a readiness that is *not* for you
//! can also arrive as HUP or ERROR bits, which would make a fresh socket
//! look dead). Go solves this with `fdseq` in the `pollDesc`; we tag tokens.
//!
//! # Token layout
//!
//! ```text
//!  bits 0..32   slot index
//!  bits 32..64  slot generation, bumped every time the slot is freed
//! ```
//!
//! [`Table::get`] returns the state only when the token's generation is the
//! slot's current one, so an event for a freed or reused slot is ignored.
//! Index `u32::MAX` is never handed out, which keeps `usize::MAX` free for
//! the reactor's unpark waker.
//!
//! The table itself is plain data; the reactor keeps it behind a mutex that
//! the poller takes once per batch of events, and that `register` and
//! `deregister` take briefly.

use std::sync::Arc;

use super::io_state::IoState;

/// Sentinel for "no next free slot".
const NONE: u32 = u32::MAX;

struct Slot {
    /// Bumped when the slot is freed, so tokens of earlier tenants go stale.
    generation: u32,
    /// The current tenant, if any.
    io: Option<Arc<IoState>>,
    /// Next free slot when this one is free.
    next_free: u32,
}

/// Generation-tagged slab of registrations. See the module docs.
pub(crate) struct Table {
    slots: Vec<Slot>,
    free_head: u32,
    len: usize,
}

impl Table {
    /// An empty table.
    pub(crate) fn new() -> Table {
        Table {
            slots: Vec::new(),
            free_head: NONE,
            len: 0,
        }
    }

    /// Number of live registrations.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Stores `io` and returns its token.
    pub(crate) fn insert(&mut self, io: Arc<IoState>) -> usize {
        let index = if self.free_head != NONE {
            let i = self.free_head;
            let slot = &mut self.slots[i as usize];
            self.free_head = slot.next_free;
            slot.io = Some(io);
            i
        } else {
            let i = u32::try_from(self.slots.len())
                .ok()
                .filter(|&i| i != NONE)
                .expect("more than 2^32 - 1 registrations");
            self.slots.push(Slot {
                generation: 0,
                io: Some(io),
                next_free: NONE,
            });
            i
        };
        self.len += 1;
        let generation = self.slots[index as usize].generation;
        encode(index, generation)
    }

    /// The state registered under `token`, unless the token is stale.
    pub(crate) fn get(&self, token: usize) -> Option<&Arc<IoState>> {
        let (index, generation) = decode(token);
        let slot = self.slots.get(index as usize)?;
        if slot.generation != generation {
            return None;
        }
        slot.io.as_ref()
    }

    /// Frees the slot of `token`; its token goes stale. A stale token is
    /// ignored.
    pub(crate) fn remove(&mut self, token: usize) -> Option<Arc<IoState>> {
        let (index, generation) = decode(token);
        let slot = self.slots.get_mut(index as usize)?;
        if slot.generation != generation || slot.io.is_none() {
            return None;
        }
        let io = slot.io.take();
        slot.generation = slot.generation.wrapping_add(1);
        slot.next_free = self.free_head;
        self.free_head = index;
        self.len -= 1;
        io
    }

    /// Every live state, for shutdown.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<IoState>> {
        self.slots.iter().filter_map(|s| s.io.as_ref())
    }
}

fn encode(index: u32, generation: u32) -> usize {
    ((generation as u64) << 32 | index as u64) as usize
}

fn decode(token: usize) -> (u32, u32) {
    let t = token as u64;
    (t as u32, (t >> 32) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_of_a_freed_and_reused_slot_is_stale() {
        let mut t = Table::new();
        let old = t.insert(Arc::new(IoState::new()));
        assert!(t.remove(old).is_some());
        let new = t.insert(Arc::new(IoState::new()));
        assert_eq!(old as u32, new as u32, "the slot is reused");
        assert_ne!(old, new, "with a new generation");
        assert!(t.get(old).is_none());
        assert!(t.get(new).is_some());
        assert!(t.remove(old).is_none(), "a stale remove frees nothing");
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn tokens_never_collide_with_the_waker_token() {
        let mut t = Table::new();
        for _ in 0..100 {
            let tok = t.insert(Arc::new(IoState::new()));
            assert_ne!(tok, usize::MAX);
        }
    }
}

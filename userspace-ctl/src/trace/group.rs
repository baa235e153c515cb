// SPDX-License-Identifier: GPL-2.0
//! The text form's grouping: trace events buffered per skb id (the kernel's
//! per-packet identifier), so that one packet's path through the hooks and
//! namespaces prints as one block; a group comes out when no event arrived
//! for its skb for a while, when it is full, or at the end of the session.
//! Pure: the caller passes the time.

use super::event::Event;
use std::time::{Duration, Instant};

/// A group is printed when no event arrived for its skb for this long.
pub const GROUP_IDLE: Duration = Duration::from_millis(200);

/// ... or when it has this many events.
pub const GROUP_MAX: usize = 16;

struct Group {
    skb: u32,
    events: Vec<Event>,
    last: Instant,
}

/// Buffers events per skb id, in order of each skb's first event.
#[derive(Default)]
pub struct Grouper {
    groups: Vec<Group>,
}

impl Grouper {
    /// Adds an event; returns its group if that is now full.
    pub fn push(&mut self, e: Event, now: Instant) -> Option<Vec<Event>> {
        let skb = e.skb_id.unwrap_or(0);
        let i = match self.groups.iter().position(|g| g.skb == skb) {
            Some(i) => i,
            None => {
                self.groups.push(Group { skb, events: Vec::new(), last: now });
                self.groups.len() - 1
            }
        };
        let g = &mut self.groups[i];
        g.events.push(e);
        g.last = now;
        if g.events.len() >= GROUP_MAX {
            return Some(self.groups.remove(i).events);
        }
        None
    }

    /// Removes and returns the groups idle for `GROUP_IDLE` at `now`.
    pub fn due(&mut self, now: Instant) -> Vec<Vec<Event>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.groups.len() {
            if now.saturating_duration_since(self.groups[i].last) >= GROUP_IDLE {
                out.push(self.groups.remove(i).events);
            } else {
                i += 1;
            }
        }
        out
    }

    /// When the next group becomes due.
    pub fn next_due(&self) -> Option<Instant> {
        self.groups.iter().map(|g| g.last + GROUP_IDLE).min()
    }

    /// Every buffered group, oldest first.
    pub fn drain(&mut self) -> Vec<Vec<Event>> {
        self.groups.drain(..).map(|g| g.events).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_by_skb_idle_time_and_size() {
        let t0 = Instant::now();
        let mut g = Grouper::default();
        let e = |skb| Event { skb_id: Some(skb), ..Default::default() };
        assert!(g.push(e(1), t0).is_none());
        assert!(g.push(e(2), t0 + Duration::from_millis(50)).is_none());
        assert!(g.push(e(1), t0 + Duration::from_millis(100)).is_none());
        assert_eq!(g.next_due(), Some(t0 + Duration::from_millis(250)));
        assert!(g.due(t0 + Duration::from_millis(249)).is_empty());
        let due = g.due(t0 + Duration::from_millis(290));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].len(), 1);
        assert_eq!(due[0][0].skb_id, Some(2));
        // skb 1 was refreshed at 100 ms.
        assert_eq!(g.next_due(), Some(t0 + Duration::from_millis(300)));
        let due = g.due(t0 + Duration::from_millis(300));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].len(), 2);
        // A full group comes out at once.
        for i in 0..GROUP_MAX - 1 {
            assert!(g.push(e(5), t0 + Duration::from_millis(i as u64)).is_none());
        }
        assert_eq!(g.push(e(5), t0).map(|v| v.len()), Some(GROUP_MAX));
        g.push(e(8), t0);
        g.push(e(9), t0);
        let all = g.drain();
        assert_eq!(all.iter().map(|v| v[0].skb_id.unwrap()).collect::<Vec<_>>(), vec![8, 9]);
        assert!(g.next_due().is_none());
    }
}

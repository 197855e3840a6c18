//! A small least-recently-used cache whose entries expire: bounded memory whatever the keys are.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Duration;

use lru::LruCache;
use tokio::time::Instant;

#[derive(Debug)]
pub struct TtlCache<V> {
    ttl: Duration,
    entries: Mutex<LruCache<String, (Instant, V)>>,
}

impl<V: Clone> TtlCache<V> {
    /// At most `capacity` entries (the least recently used go first), each kept for `ttl`.
    pub fn new(capacity: NonZeroUsize, ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// The value for `key` if it is younger than the cache's time to live.
    pub fn get(&self, key: &str) -> Option<V> {
        let mut entries = self.lock();
        match entries.get(key) {
            Some((at, value)) if at.elapsed() < self.ttl => Some(value.clone()),
            Some(_) => {
                entries.pop(key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, key: &str, value: V) {
        self.lock().put(key.to_owned(), (Instant::now(), value));
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, (Instant, V)>> {
        // A poisoned lock only means another thread panicked mid-update; the cache is still usable.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `n` as a capacity; the callers' constants are never zero.
pub const fn capacity(n: usize) -> NonZeroUsize {
    match NonZeroUsize::new(n) {
        Some(n) => n,
        None => NonZeroUsize::MIN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn entries_expire_and_the_least_recent_go_first() {
        let cache = TtlCache::new(capacity(2), Duration::from_secs(60));
        cache.put("a", Some(1));
        cache.put("b", None);
        assert_eq!(cache.get("a"), Some(Some(1)));
        cache.put("c", Some(3));
        assert_eq!(cache.get("b"), None, "b was the least recently used");
        assert_eq!(cache.len(), 2);
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(cache.get("a"), None);
    }
}

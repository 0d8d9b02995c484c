package dialects

import (
	"container/list"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults of the configuration cache: Prefect's TTLCache(maxsize=100,
// ttl=3600).
const (
	// DefaultConfigurationCacheSize is the most keys a cache holds.
	DefaultConfigurationCacheSize = 100
	// DefaultConfigurationCacheTTL is how long a cached value is served.
	DefaultConfigurationCacheTTL = time.Hour
)

// ConfigurationCacheOptions configure a ConfigurationCache. Zero fields take
// the defaults.
type ConfigurationCacheOptions struct {
	// MaxKeys is the most keys held (default DefaultConfigurationCacheSize).
	// When a new key would exceed it, expired entries are dropped and then
	// the least recently used one.
	MaxKeys int
	// TTL is how long a value is served from the cache after it was read
	// from the database (default DefaultConfigurationCacheTTL).
	TTL time.Duration
	// Now is the clock (default time.Now); tests replace it.
	Now func() time.Time
}

// ConfigurationCache caches rows of the configuration table by key, the way
// Prefect's read_configuration_value does (prefect_semantics.md §6.7; its
// CONFIGURATION_CACHE): at most 100 keys, each served for an hour after it
// was read, misses never cached, and no invalidation across processes.
//
// Prefect's cache is one per process. Here it is a value that the owner of
// the process's database interface creates once with NewConfigurationCache
// and shares; there is no package-level instance. It does not depend on the
// dialect. It is safe for concurrent use.
type ConfigurationCache struct {
	maxKeys int
	ttl     time.Duration
	now     func() time.Time

	mu      sync.Mutex
	entries map[string]*list.Element // of *configEntry
	lru     *list.List               // front = most recently used
	gen     uint64                   // bumped by every clear
}

type configEntry struct {
	key     string
	value   json.RawMessage
	expires time.Time
}

// NewConfigurationCache returns an empty cache with Prefect's limits (100
// keys, one hour).
func NewConfigurationCache() *ConfigurationCache {
	return NewConfigurationCacheWithOptions(ConfigurationCacheOptions{})
}

// NewConfigurationCacheWithOptions returns an empty cache with the given
// limits.
func NewConfigurationCacheWithOptions(o ConfigurationCacheOptions) *ConfigurationCache {
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultConfigurationCacheSize
	}
	if o.TTL <= 0 {
		o.TTL = DefaultConfigurationCacheTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &ConfigurationCache{
		maxKeys: o.MaxKeys,
		ttl:     o.TTL,
		now:     o.Now,
		entries: map[string]*list.Element{},
		lru:     list.New(),
	}
}

// ReadConfigurationValue returns the value of the configuration row key.
//
// A cached, unexpired value is returned without touching q (which may then
// be nil). Otherwise it reads SELECT value FROM configuration WHERE key = …
// through q (a nil q is then an error); a row found is cached and returned
// with ok true. No row gives ok false and nothing is cached, so a later
// write is seen at once. The returned slice is the caller's own copy.
//
// A clear (ClearConfigurationValueCacheForKey) that happens while the
// database is being read keeps that read's result out of the cache, so a
// writer that clears after writing never leaves the old value cached.
func (c *ConfigurationCache) ReadConfigurationValue(ctx context.Context, q Querier, key string) (value json.RawMessage, ok bool, err error) {
	c.mu.Lock()
	if el, hit := c.entries[key]; hit {
		e := el.Value.(*configEntry)
		if c.now().Before(e.expires) {
			c.lru.MoveToFront(el)
			v := cloneRaw(e.value)
			c.mu.Unlock()
			return v, true, nil
		}
		c.removeLocked(el)
	}
	gen := c.gen
	c.mu.Unlock()

	if q == nil {
		return nil, false, errors.New("read configuration: key not cached and no database to read it from")
	}
	// "$1" is PostgreSQL's placeholder; modernc's SQLite binds $NNN by
	// ordinal too, so this statement is the same on both databases.
	rows, err := q.QueryContext(ctx, "SELECT value FROM configuration WHERE key = $1", key)
	if err != nil {
		return nil, false, fmt.Errorf("read configuration %q: %w", key, err)
	}
	defer rows.Close()
	var raw sql.RawBytes
	found := false
	if rows.Next() {
		if err := rows.Scan(&raw); err != nil {
			return nil, false, fmt.Errorf("read configuration %q: %w", key, err)
		}
		value, found = cloneRaw(json.RawMessage(raw)), true
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("read configuration %q: %w", key, err)
	}
	if err := rows.Close(); err != nil {
		return nil, false, fmt.Errorf("read configuration %q: %w", key, err)
	}
	if !found {
		return nil, false, nil
	}

	c.mu.Lock()
	if c.gen == gen {
		c.storeLocked(key, cloneRaw(value))
	}
	c.mu.Unlock()
	return value, true, nil
}

// ClearConfigurationValueCacheForKey forgets key, so the next read goes to
// the database. A key that is not cached is not an error. Call it after
// every write of the key (Prefect's write_configuration does).
func (c *ConfigurationCache) ClearConfigurationValueCacheForKey(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if el, ok := c.entries[key]; ok {
		c.removeLocked(el)
	}
}

// Len returns the number of keys cached, expired ones included until they
// are dropped.
func (c *ConfigurationCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *ConfigurationCache) storeLocked(key string, value json.RawMessage) {
	now := c.now()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*configEntry)
		e.value, e.expires = value, now.Add(c.ttl)
		c.lru.MoveToFront(el)
		return
	}
	if c.lru.Len() >= c.maxKeys {
		for el := c.lru.Back(); el != nil; {
			prev := el.Prev()
			if !now.Before(el.Value.(*configEntry).expires) {
				c.removeLocked(el)
			}
			el = prev
		}
	}
	for c.lru.Len() >= c.maxKeys {
		c.removeLocked(c.lru.Back())
	}
	c.entries[key] = c.lru.PushFront(&configEntry{key: key, value: value, expires: now.Add(c.ttl)})
}

func (c *ConfigurationCache) removeLocked(el *list.Element) {
	delete(c.entries, el.Value.(*configEntry).key)
	c.lru.Remove(el)
}

func cloneRaw(v json.RawMessage) json.RawMessage {
	if v == nil {
		return nil
	}
	return append(json.RawMessage(nil), v...)
}

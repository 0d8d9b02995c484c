package dbiface

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/prefectdb/prefectdb/config"
)

// Default is the registry that the package-level Provide uses: the one
// deliberate global of prefectdb, like Prefect's process-wide interface
// cache.
var Default = NewRegistry()

// Registry hands out one Interface per database. Its key is the database's
// dialect and URL, as written: the first Provide for a URL opens the
// interface with its options, and later ones get the same interface whatever
// options they pass (as in Prefect, where the first instance wins).
// Concurrent first calls open the database once. A Registry is safe for
// concurrent use.
type Registry struct {
	mu        sync.Mutex
	instances map[string]*entry
	overrides []*Interface
}

// entry is an interface being opened or open.
type entry struct {
	ready chan struct{}
	iface *Interface
	err   error
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{instances: map[string]*entry{}}
}

// Provide returns the interface for cfg, opening it on first use. While an
// override is active (see Override), it returns the override instead.
func (r *Registry) Provide(ctx context.Context, cfg Config) (*Interface, error) {
	target, err := config.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("dbiface: %w", err)
	}
	key := string(target.Kind) + "\x00" + cfg.URL
	r.mu.Lock()
	if n := len(r.overrides); n > 0 {
		o := r.overrides[n-1]
		r.mu.Unlock()
		return o, nil
	}
	if e, ok := r.instances[key]; ok {
		r.mu.Unlock()
		select {
		case <-e.ready:
			return e.iface, e.err
		case <-ctx.Done():
			return nil, fmt.Errorf("dbiface: waiting for %s to open: %w", target.Redacted(), ctx.Err())
		}
	}
	e := &entry{ready: make(chan struct{})}
	r.instances[key] = e
	r.mu.Unlock()

	e.iface, e.err = open(ctx, cfg, r, key)
	if e.err != nil {
		r.mu.Lock()
		delete(r.instances, key)
		r.mu.Unlock()
	}
	close(e.ready)
	return e.iface, e.err
}

// Override makes Provide return iface until restore is called; overrides
// nest. This is Prefect's temporary_database_interface, for tests.
func (r *Registry) Override(iface *Interface) (restore func()) {
	r.mu.Lock()
	r.overrides = append(r.overrides, iface)
	r.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			for i := len(r.overrides) - 1; i >= 0; i-- {
				if r.overrides[i] == iface {
					r.overrides = append(r.overrides[:i], r.overrides[i+1:]...)
					return
				}
			}
		})
	}
}

// CloseAll closes every interface the registry opened.
func (r *Registry) CloseAll() error {
	r.mu.Lock()
	var open []*Interface
	for _, e := range r.instances {
		select {
		case <-e.ready:
			if e.iface != nil {
				open = append(open, e.iface)
			}
		default:
		}
	}
	r.mu.Unlock()
	var errs []error
	for _, i := range open {
		errs = append(errs, i.Close())
	}
	return errors.Join(errs...)
}

// forget removes a closed interface, so that the next Provide opens anew.
func (r *Registry) forget(i *Interface) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.instances[i.key]; ok && e.iface == i {
		delete(r.instances, i.key)
	}
}

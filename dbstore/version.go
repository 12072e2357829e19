package dbstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// versioner answers PRAGMA data_version on one dedicated connection. SQLite documents that two
// readings on the same connection differ if any other connection (the archiver, another process)
// committed a change in between, in WAL and rollback mode alike. A pool's connections each have
// their own counter, hence the dedicated one.
type versioner struct {
	pinned    atomic.Bool // conn is open, and so holds the -shm of a WAL file in place
	mu        sync.Mutex
	conn      *sql.Conn
	stmt      *sql.Stmt
	taken     time.Time
	gen       int64 // bumped with each new connection: counters of different connections do not compare
	immutable bool  // conn was opened in the immutable fallback
}

// DataVersion returns a number that changes whenever someone else commits to the table's file.
// Equal readings mean the file's content is unchanged in between, so a reply computed after the
// first reading is still exact at the second.
func (s *Store) DataVersion(ctx context.Context, t Table) (int64, error) {
	if s == nil {
		return 0, ErrNoStore
	}
	if t < 0 || t >= numTables || s.dbs[t] == nil {
		return 0, ErrUnsupported
	}
	d := s.dbs[t]
	if d.version.pinned.Load() {
		if tok, ok := d.shm.token(); ok {
			return tok, nil
		}
	}
	return d.version.dataVersion(ctx, d)
}

func (v *versioner) dataVersion(ctx context.Context, d *db) (int64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	// Renewed like the pool's connections, so an immutable fallback connection does not last.
	var old *sql.Conn
	var oldStmt *sql.Stmt
	if v.conn != nil && time.Since(v.taken) > connLifetime {
		// Open the successor before closing: a WAL file's -shm stays held throughout.
		old, oldStmt = v.conn, v.stmt
		v.conn, v.stmt = nil, nil
	}
	defer func() {
		if old != nil {
			oldStmt.Close()
			old.Close()
		}
	}()
	if v.conn == nil {
		c, err := d.pool.Conn(ctx)
		if err != nil {
			return 0, d.errorf("%v", err)
		}
		st, err := c.PrepareContext(ctx, "PRAGMA data_version")
		if err != nil {
			c.Close()
			return 0, d.errorf("%v", err)
		}
		v.conn, v.stmt, v.taken = c, st, time.Now()
		v.gen++
		v.immutable = false
		c.Raw(func(dc any) error { v.immutable = d.conn.isImmutable(dc); return nil })
	}
	var n int64
	if err := v.stmt.QueryRowContext(ctx).Scan(&n); err != nil {
		v.closeLocked() // the next call takes a fresh connection
		return 0, d.errorf("%v", err)
	}
	// Only a normal connection holds the -shm open (and so keeps it from being truncated or
	// replaced): the fast path needs one.
	v.pinned.Store(!v.immutable)
	return v.gen<<40 | n, nil
}

func (v *versioner) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.closeLocked()
}

func (v *versioner) closeLocked() {
	v.pinned.Store(false)
	if v.stmt != nil {
		v.stmt.Close()
		v.stmt = nil
	}
	if v.conn != nil {
		v.conn.Close()
		v.conn = nil
	}
}

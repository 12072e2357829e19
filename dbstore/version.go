package dbstore

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// versioner answers PRAGMA data_version on one dedicated connection. SQLite documents that two
// readings on the same connection differ if any other connection (the archiver, another process)
// committed a change in between, in WAL and rollback mode alike. A pool's connections each have
// their own counter, hence the dedicated one.
type versioner struct {
	mu    sync.Mutex
	conn  *sql.Conn
	stmt  *sql.Stmt
	taken time.Time
	gen   int64 // bumped with each new connection: counters of different connections do not compare
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
	return d.version.dataVersion(ctx, d)
}

func (v *versioner) dataVersion(ctx context.Context, d *db) (int64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	// Renewed like the pool's connections, so an immutable fallback connection (see connector),
	// which need not see the archiver's commits, does not outlast the archiver's return.
	if v.conn != nil && time.Since(v.taken) > connLifetime {
		v.closeLocked()
	}
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
	}
	var n int64
	if err := v.stmt.QueryRowContext(ctx).Scan(&n); err != nil {
		v.closeLocked() // the next call takes a fresh connection
		return 0, d.errorf("%v", err)
	}
	return v.gen<<40 | n, nil
}

func (v *versioner) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.closeLocked()
}

func (v *versioner) closeLocked() {
	if v.stmt != nil {
		v.stmt.Close()
		v.stmt = nil
	}
	if v.conn != nil {
		v.conn.Close()
		v.conn = nil
	}
}

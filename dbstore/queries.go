package dbstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// query names one prepared statement. SQL text is built only from the constant table and column
// names of tableInfos; every value, LIMIT and OFFSET included, is a bound parameter.
type query int

const (
	qProbe        query = iota // SELECT 1 FROM t LIMIT 1
	qNewest                    // newest N: ORDER BY cycle DESC, timestamp DESC LIMIT ?
	qOffset                    // ascending by offset: LIMIT ? OFFSET ?
	qInCycles                  // ascending, cycle BETWEEN ? AND ?, LIMIT ? OFFSET ?
	qCountIn                   // COUNT(*) with cycle BETWEEN ? AND ?
	qTally                     // per-cycle COUNT(*) with cycle BETWEEN ? AND ?
	qCount                     // COUNT(*)
	qByID                      // idCol = ? LIMIT 1
	qByAppReceipt              // transactions only: appReceiptId = ? LIMIT 1
	qCyclesRange               // cycles only: counter BETWEEN ? AND ? ORDER BY counter ASC
)

func statements(t Table) map[query]string {
	ti := tableInfos[t]
	name, cyc := `"`+ti.name+`"`, ti.cycleCol
	m := map[query]string{
		qProbe: "SELECT 1 FROM " + name + " LIMIT 1",
		qCount: "SELECT COUNT(*) FROM " + name,
		qByID:  "SELECT * FROM " + name + " WHERE " + ti.idCol + " = ? LIMIT 1",
	}
	if t == Cycles {
		m[qNewest] = "SELECT * FROM " + name + " ORDER BY counter DESC LIMIT ?"
		m[qCyclesRange] = "SELECT * FROM " + name + " WHERE counter BETWEEN ? AND ? ORDER BY counter ASC"
		return m
	}
	asc := " ORDER BY " + cyc + " ASC, timestamp ASC"
	m[qNewest] = "SELECT * FROM " + name + " ORDER BY " + cyc + " DESC, timestamp DESC LIMIT ?"
	m[qOffset] = "SELECT * FROM " + name + asc + " LIMIT ? OFFSET ?"
	m[qInCycles] = "SELECT * FROM " + name + " WHERE " + cyc + " BETWEEN ? AND ?" + asc + " LIMIT ? OFFSET ?"
	m[qCountIn] = "SELECT COUNT(*) FROM " + name + " WHERE " + cyc + " BETWEEN ? AND ?"
	if ti.countName != "" {
		m[qTally] = "SELECT " + cyc + ", COUNT(*) AS " + ti.countName + " FROM " + name +
			" GROUP BY " + cyc + " HAVING " + cyc + " BETWEEN ? AND ? ORDER BY " + cyc + " ASC"
	}
	if t == Transactions {
		m[qByAppReceipt] = "SELECT * FROM " + name + " WHERE appReceiptId = ? LIMIT 1"
	}
	return m
}

func (d *db) prepare() error {
	d.stmts = map[query]*sql.Stmt{}
	for q, text := range statements(d.table) {
		st, err := d.pool.Prepare(text)
		if err != nil {
			return d.errorf("cannot prepare %q: %v", text, err)
		}
		d.stmts[q] = st
	}
	return nil
}

// Rows is a query result: the column names (SELECT *, so whatever the archiver's table has) and
// each row's raw cells: int64, float64, string, []byte or nil.
type Rows struct {
	Columns []string
	Values  [][]any
}

// Len is the number of rows.
func (r Rows) Len() int { return len(r.Values) }

// ErrUnsupported is returned for a query the table does not have (e.g. a tally of accounts).
var ErrUnsupported = errors.New("dbstore: query not supported on this table")

// ErrNoStore is what every query of a nil *Store answers: a caller that could not open the
// archive can still hand its nil Store around and get errors (the REST fallbacks) instead of panics.
var ErrNoStore = errors.New("dbstore: no archive database is open")

func (s *Store) stmt(t Table, q query) (*db, *sql.Stmt, error) {
	if s == nil {
		return nil, nil, ErrNoStore
	}
	if t < 0 || t >= numTables {
		return nil, nil, fmt.Errorf("dbstore: unknown table %d", int(t))
	}
	d := s.dbs[t]
	st := d.stmts[q]
	if st == nil {
		return d, nil, fmt.Errorf("%w: %s", ErrUnsupported, t.Name())
	}
	return d, st, nil
}

func (s *Store) rows(ctx context.Context, t Table, q query, args ...any) (Rows, error) {
	d, st, err := s.stmt(t, q)
	if err != nil {
		return Rows{}, err
	}
	rs, err := st.QueryContext(ctx, args...)
	if err != nil {
		return Rows{}, d.errorf("%v", err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return Rows{}, d.errorf("%v", err)
	}
	out := Rows{Columns: cols}
	ptrs := make([]any, len(cols))
	for rs.Next() {
		vals := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return out, d.errorf("%v", err)
		}
		out.Values = append(out.Values, vals)
	}
	if err := rs.Err(); err != nil {
		return out, d.errorf("%v", err)
	}
	return out, nil
}

func (s *Store) count(ctx context.Context, t Table, q query, args ...any) (int64, error) {
	d, st, err := s.stmt(t, q)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := st.QueryRowContext(ctx, args...).Scan(&n); err != nil {
		return 0, d.errorf("%v", err)
	}
	return n, nil
}

// Newest returns the newest n rows, newest first (cycles by counter; other tables by cycle then timestamp).
func (s *Store) Newest(ctx context.Context, t Table, n int64) (Rows, error) {
	return s.rows(ctx, t, qNewest, n)
}

// Offset returns limit rows from the 0-based row offset, oldest first. Not for Cycles.
func (s *Store) Offset(ctx context.Context, t Table, offset, limit int64) (Rows, error) {
	return s.rows(ctx, t, qOffset, limit, offset)
}

// InCycles returns a page of the rows whose cycle is in [from, to], oldest first. Not for Cycles.
func (s *Store) InCycles(ctx context.Context, t Table, from, to float64, offset, limit int64) (Rows, error) {
	return s.rows(ctx, t, qInCycles, from, to, limit, offset)
}

// CyclesBetween returns the cycles whose counter is in [from, to], ascending.
func (s *Store) CyclesBetween(ctx context.Context, from, to float64) (Rows, error) {
	return s.rows(ctx, Cycles, qCyclesRange, from, to)
}

// CountInCycles counts the rows whose cycle is in [from, to]. Not for Cycles.
func (s *Store) CountInCycles(ctx context.Context, t Table, from, to float64) (int64, error) {
	return s.count(ctx, t, qCountIn, from, to)
}

// Tally returns, for Receipts and OriginalTxs, one row per cycle in [from, to] that has rows:
// columns cycle and receipts / originalTxsData (the count), ascending.
func (s *Store) Tally(ctx context.Context, t Table, from, to float64) (Rows, error) {
	return s.rows(ctx, t, qTally, from, to)
}

// Count is the table's COUNT(*).
func (s *Store) Count(ctx context.Context, t Table) (int64, error) {
	return s.count(ctx, t, qCount)
}

// ByID returns the first row whose id column (cycleMarker, accountId, txId, receiptId, txId) is id.
func (s *Store) ByID(ctx context.Context, t Table, id string) (Rows, error) {
	return s.rows(ctx, t, qByID, id)
}

// TxByAppReceiptID returns the first transaction whose appReceiptId is id.
func (s *Store) TxByAppReceiptID(ctx context.Context, id string) (Rows, error) {
	return s.rows(ctx, Transactions, qByAppReceipt, id)
}

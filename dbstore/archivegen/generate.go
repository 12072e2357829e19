package archivegen

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// InsertSQL is the archiver's INSERT for a file name (columns in DDL order).
var InsertSQL = map[string]string{
	"cycles.sqlite3":          "INSERT INTO cycles (cycleMarker, counter, cycleRecord) VALUES (?, ?, ?)",
	"accounts.sqlite3":        "INSERT INTO accounts (accountId, data, timestamp, hash, cycleNumber, isGlobal) VALUES (?, ?, ?, ?, ?, ?)",
	"transactions.sqlite3":    "INSERT INTO transactions (txId, appReceiptId, timestamp, cycleNumber, data, originalTxData) VALUES (?, ?, ?, ?, ?, ?)",
	"receipts.sqlite3":        "INSERT INTO receipts (receiptId, tx, cycle, applyTimestamp, timestamp, signedReceipt, afterStates, beforeStates, appReceiptData, executionShardKey, globalModification) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	"originalTxsData.sqlite3": "INSERT INTO originalTxsData (txId, timestamp, cycle, originalTxData) VALUES (?, ?, ?, ?)",
}

// Row returns the cells of row (c, i) of a file, in DDL order (cycles ignore i).
func Row(file string, o Options, c, i int) []any {
	o = o.norm()
	ts := o.Timestamp(c, i)
	switch file {
	case "cycles.sqlite3":
		return []any{CycleMarker(c), c, canon(cycleRecord(o, c))}
	case "accounts.sqlite3":
		global := 0
		if c == 0 && i == 0 {
			global = 1
		}
		return []any{AccountID(c, i), canon(account(o, c, i)), ts, hx("acchash", c, i), c, global}
	case "transactions.sqlite3":
		var app any = AppReceiptID(c, i)
		if app == "" {
			app = nil
		}
		return []any{TxID(c, i), app, ts, c, canon(readableReceipt(o, c, i)), canon(originalTxData(o, c, i))}
	case "receipts.sqlite3":
		tx := obj{"originalTxData": originalTxData(o, c, i), "txId": TxID(c, i), "timestamp": ts}
		var before, app any = canon(states(c, i, false)), canon(readableReceipt(o, c, i))
		global := 0
		switch {
		case c%10 == 7 && i == 6:
			before, app = "", "null"
		case c%10 == 3 && i == 6:
			app, global = nil, 1
		}
		return []any{TxID(c, i), canon(tx), c, ts + 250, ts, canon(signedReceipt(c, i)), canon(states(c, i, true)),
			before, app, fmt.Sprintf("%04x", h("shard", c, i)[:2]), global}
	case "originalTxsData.sqlite3":
		return []any{TxID(c, i), ts, c, canon(originalTxData(o, c, i))}
	}
	panic("archivegen: unknown file " + file)
}

// Generate writes the five files into dir (created if needed), replacing any there.
func Generate(dir string, o Options) error {
	o = o.norm()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range FileNames {
		if err := writeFile(filepath.Join(dir, f), f, o); err != nil {
			return fmt.Errorf("archivegen: %s: %w", f, err)
		}
	}
	return nil
}

func writeFile(path, file string, o Options) error {
	tmp := path + ".tmp"
	for _, p := range []string{tmp, tmp + "-journal"} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	db, err := sql.Open("sqlite", "file:"+tmp+"?_pragma=journal_mode(DELETE)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range DDL[file] {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	ins, err := tx.PrepareContext(ctx, InsertSQL[file])
	if err != nil {
		return err
	}
	for c := 0; c < o.Cycles; c++ {
		n := o.TxPerCycle
		if file == "cycles.sqlite3" {
			n = 1
		}
		for i := 0; i < n; i++ {
			if _, err := ins.ExecContext(ctx, Row(file, o, c, i)...); err != nil {
				return err
			}
		}
	}
	ins.Close()
	if err := tx.Commit(); err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	for _, ext := range []string{"-wal", "-shm", "-journal"} {
		os.Remove(path + ext)
	}
	return os.Rename(tmp, path)
}

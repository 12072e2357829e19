package dbstore

// Table names one of the archiver's tables; each lives in its own file.
type Table int

const (
	Cycles Table = iota
	Accounts
	Transactions
	Receipts
	OriginalTxs
	numTables
)

// Tables lists every table in a fixed order.
var Tables = []Table{Cycles, Accounts, Transactions, Receipts, OriginalTxs}

type tableInfo struct {
	name      string   // SQL table name
	key       string   // config key under ARCHIVER_DATA
	file      string   // default file name
	cycleCol  string   // column holding the cycle number ("" for cycles: counter)
	idCol     string   // primary lookup column
	columns   []string // columns the archiver's DDL defines, in DDL order
	jsonCols  []string // cells holding safeStringify text
	countName string   // name of COUNT(*) in a tally
}

var tableInfos = [numTables]tableInfo{
	Cycles: {name: "cycles", key: "cycleDB", file: "cycles.sqlite3", cycleCol: "counter", idCol: "cycleMarker",
		columns:  []string{"cycleMarker", "counter", "cycleRecord"},
		jsonCols: []string{"cycleRecord"}},
	Accounts: {name: "accounts", key: "accountDB", file: "accounts.sqlite3", cycleCol: "cycleNumber", idCol: "accountId",
		columns:  []string{"accountId", "data", "timestamp", "hash", "cycleNumber", "isGlobal"},
		jsonCols: []string{"data"}},
	Transactions: {name: "transactions", key: "transactionDB", file: "transactions.sqlite3", cycleCol: "cycleNumber", idCol: "txId",
		columns:  []string{"txId", "appReceiptId", "timestamp", "cycleNumber", "data", "originalTxData"},
		jsonCols: []string{"data", "originalTxData"}},
	Receipts: {name: "receipts", key: "receiptDB", file: "receipts.sqlite3", cycleCol: "cycle", idCol: "receiptId",
		columns: []string{"receiptId", "tx", "cycle", "applyTimestamp", "timestamp", "signedReceipt", "afterStates",
			"beforeStates", "appReceiptData", "executionShardKey", "globalModification"},
		jsonCols:  []string{"tx", "afterStates", "beforeStates", "signedReceipt", "appReceiptData"},
		countName: "receipts"},
	OriginalTxs: {name: "originalTxsData", key: "originalTxDataDB", file: "originalTxsData.sqlite3", cycleCol: "cycle", idCol: "txId",
		columns:   []string{"txId", "timestamp", "cycle", "originalTxData"},
		jsonCols:  []string{"originalTxData"},
		countName: "originalTxsData"},
}

// Name is the SQL table name ("receipts", "originalTxsData", ...).
func (t Table) Name() string { return tableInfos[t].name }

// ConfigKey is the table's key under ARCHIVER_DATA ("receiptDB", ...).
func (t Table) ConfigKey() string { return tableInfos[t].key }

// JSONColumns lists the columns whose cells the archiver writes as safeStringify text (§5).
func (t Table) JSONColumns() []string { return tableInfos[t].jsonCols }

// Columns lists the columns of the archiver's DDL, in order.
func (t Table) Columns() []string { return tableInfos[t].columns }

func (t Table) String() string { return t.Name() }

// Files holds the five file names of ARCHIVER_DATA. Its fields match config.ArchiverData, so
// dbstore.Files(cfg.ArchiverData) converts.
type Files struct {
	CycleDB, AccountDB, TransactionDB, ReceiptDB, OriginalTxDataDB string
}

// DefaultFiles are the archiver's own file names.
func DefaultFiles() Files {
	return Files{CycleDB: "cycles.sqlite3", AccountDB: "accounts.sqlite3", TransactionDB: "transactions.sqlite3",
		ReceiptDB: "receipts.sqlite3", OriginalTxDataDB: "originalTxsData.sqlite3"}
}

func (f Files) name(t Table) string {
	switch t {
	case Cycles:
		return f.CycleDB
	case Accounts:
		return f.AccountDB
	case Transactions:
		return f.TransactionDB
	case Receipts:
		return f.ReceiptDB
	default:
		return f.OriginalTxDataDB
	}
}

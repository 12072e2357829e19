package archivegen

// DDL is the archive-server schema (src/dbstore), per file name, as rest-api.md §6 lists it.
var DDL = map[string][]string{
	"cycles.sqlite3": {
		"CREATE TABLE if not exists `cycles` (`cycleMarker` TEXT NOT NULL UNIQUE PRIMARY KEY, `counter` NUMBER NOT NULL, `cycleRecord` JSON NOT NULL)",
		"CREATE INDEX if not exists `cycles_idx` ON `cycles` (`counter` ASC)",
	},
	"accounts.sqlite3": {
		"CREATE TABLE if not exists `accounts` (`accountId` TEXT NOT NULL UNIQUE PRIMARY KEY, `data` JSON NOT NULL, `timestamp` BIGINT NOT NULL, `hash` TEXT NOT NULL, `cycleNumber` NUMBER NOT NULL, `isGlobal` BOOLEAN NOT NULL)",
		"CREATE INDEX if not exists `accounts_cycleNumber` ON `accounts` (`cycleNumber` ASC)",
		"CREATE INDEX if not exists `accounts_timestamp` ON `accounts` (`timestamp` ASC)",
		"CREATE INDEX if not exists `accounts_cycleNumber_timestamp` ON `accounts` (`cycleNumber` ASC, `timestamp` ASC)",
	},
	"transactions.sqlite3": {
		"CREATE TABLE if not exists `transactions` (`txId` TEXT NOT NULL UNIQUE PRIMARY KEY, `appReceiptId` TEXT, `timestamp` BIGINT NOT NULL, `cycleNumber` NUMBER NOT NULL, `data` JSON NOT NULL, `originalTxData` JSON NOT NULL)",
		"CREATE INDEX if not exists `transactions_timestamp` ON `transactions` (`timestamp` ASC)",
		"CREATE INDEX if not exists `transactions_cycleNumber_timestamp` ON `transactions` (`cycleNumber` ASC, `timestamp` ASC)",
		"CREATE INDEX if not exists `transactions_appReceiptId_idx` ON `transactions` (`appReceiptId`)",
	},
	"receipts.sqlite3": {
		"CREATE TABLE if not exists `receipts` (`receiptId` TEXT NOT NULL UNIQUE PRIMARY KEY, `tx` JSON NOT NULL, `cycle` NUMBER NOT NULL, `applyTimestamp` BIGINT NOT NULL, `timestamp` BIGINT NOT NULL, `signedReceipt` JSON NOT NULL, `afterStates` JSON, `beforeStates` JSON, `appReceiptData` JSON, `executionShardKey` TEXT NOT NULL, `globalModification` BOOLEAN NOT NULL)",
		"CREATE INDEX if not exists `receipts_cycle` ON `receipts` (`cycle` ASC)",
		"CREATE INDEX if not exists `receipts_timestamp` ON `receipts` (`timestamp` ASC)",
		"CREATE INDEX if not exists `receipts_cycle_timestamp` ON `receipts` (`cycle` ASC, `timestamp` ASC)",
	},
	"originalTxsData.sqlite3": {
		"CREATE TABLE if not exists `originalTxsData` (`txId` TEXT NOT NULL, `timestamp` BIGINT NOT NULL, `cycle` NUMBER NOT NULL, `originalTxData` JSON NOT NULL, PRIMARY KEY (`txId`, `timestamp`))",
		"CREATE INDEX if not exists `originalTxsData_cycle` ON `originalTxsData` (`cycle` ASC)",
		"CREATE INDEX if not exists `originalTxsData_timestamp` ON `originalTxsData` (`timestamp` ASC)",
		"CREATE INDEX if not exists `originalTxsData_cycle_timestamp` ON `originalTxsData` (`cycle` ASC, `timestamp` ASC)",
		"CREATE INDEX if not exists `originalTxsData_txId` ON `originalTxsData` (`txId`)",
	},
}

// FileNames are the five files, in the order Generate writes them.
var FileNames = []string{"cycles.sqlite3", "accounts.sqlite3", "transactions.sqlite3", "receipts.sqlite3", "originalTxsData.sqlite3"}

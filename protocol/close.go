package protocol

// WebSocket close codes the distributor sends. Collectors treat 1000 and 1001 specially (see
// firehose.md §3); anything else makes them reconnect after a delay.
const (
	// CloseReplaced: a newer connection with the same sender key replaced this one.
	CloseReplaced = 1000
	// CloseExpired: the subscription expired or was removed.
	CloseExpired = 1001
	// CloseSlowConsumer: the client fell behind its bounded queue; it may resume from its cursor.
	CloseSlowConsumer = 1008
	// CloseCursorGone: the resume cursor's position is no longer on disk.
	CloseCursorGone = 4404
	// CloseShutdown: the distributor (or this child) is going away.
	CloseShutdown = 1001
	// CloseInternal: an unexpected server error.
	CloseInternal = 1011
)
